/**
 * Feeds `controller.events()` into the run-view reducer from an effect, and says when and how the stream ended.
 * Also lets the dashboard add its own log lines (command acknowledgements) to the same view.
 */
import { useCallback, useEffect, useReducer, useState } from "react";
import type { Event, LogLevel } from "../src/gen/alignprop/v1/alignprop_pb.js";
import type { RunController } from "../src/bridge/run-controller.js";
import { thrownText } from "./format.js";
import { appendLog, initialRunView, reduceRunView, type RunView } from "./run-view.js";

/** The stream ended; `streamError` is set when it threw instead of finishing. */
export interface StreamEnd {
  streamError?: string;
}

export interface RunEvents {
  view: RunView;
  end: StreamEnd | undefined;
  log: (level: LogLevel, text: string) => void;
}

type Action = { kind: "event"; event: Event } | { kind: "log"; level: LogLevel; text: string };

function reduce(view: RunView, action: Action): RunView {
  return action.kind === "event" ? reduceRunView(view, action.event) : appendLog(view, action.level, action.text);
}

export function useRunEvents(controller: RunController): RunEvents {
  const [view, dispatch] = useReducer(reduce, initialRunView);
  const [end, setEnd] = useState<StreamEnd>();
  useEffect(() => {
    let live = true;
    void (async () => {
      try {
        for await (const event of controller.events()) {
          if (!live) return;
          dispatch({ kind: "event", event });
        }
        if (live) setEnd({});
      } catch (thrown) {
        if (live) setEnd({ streamError: thrownText(thrown) });
      }
    })();
    return () => {
      live = false;
    };
  }, [controller]);
  const log = useCallback((level: LogLevel, text: string) => dispatch({ kind: "log", level, text }), []);
  return { view, end, log };
}
