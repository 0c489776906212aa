/**
 * The question `q` asks before stopping a run, in place of the key hints: stopping ends training for good, so it
 * takes a second key (`y`); any other key cancels.
 */
import { Text } from "ink";
import type { JSX } from "react";

export function StopConfirm(): JSX.Element {
  return (
    <Text color="yellow" bold inverse>
      {" Stop training? y/n "}
    </Text>
  );
}
