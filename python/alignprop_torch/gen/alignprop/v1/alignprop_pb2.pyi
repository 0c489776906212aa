from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATE_UNSPECIFIED: _ClassVar[RunState]
    RUN_STATE_STARTING: _ClassVar[RunState]
    RUN_STATE_RUNNING: _ClassVar[RunState]
    RUN_STATE_PAUSED: _ClassVar[RunState]
    RUN_STATE_STOPPING: _ClassVar[RunState]
    RUN_STATE_DONE: _ClassVar[RunState]
    RUN_STATE_FAILED: _ClassVar[RunState]

class LogLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOG_LEVEL_UNSPECIFIED: _ClassVar[LogLevel]
    LOG_LEVEL_DEBUG: _ClassVar[LogLevel]
    LOG_LEVEL_INFO: _ClassVar[LogLevel]
    LOG_LEVEL_WARN: _ClassVar[LogLevel]
    LOG_LEVEL_ERROR: _ClassVar[LogLevel]
RUN_STATE_UNSPECIFIED: RunState
RUN_STATE_STARTING: RunState
RUN_STATE_RUNNING: RunState
RUN_STATE_PAUSED: RunState
RUN_STATE_STOPPING: RunState
RUN_STATE_DONE: RunState
RUN_STATE_FAILED: RunState
LOG_LEVEL_UNSPECIFIED: LogLevel
LOG_LEVEL_DEBUG: LogLevel
LOG_LEVEL_INFO: LogLevel
LOG_LEVEL_WARN: LogLevel
LOG_LEVEL_ERROR: LogLevel

class Hello(_message.Message):
    __slots__ = ("protocol_major", "protocol_minor", "agent", "run_id", "events_endpoint", "observe_endpoint", "instance_id", "start_seq")
    PROTOCOL_MAJOR_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MINOR_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    OBSERVE_ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    START_SEQ_FIELD_NUMBER: _ClassVar[int]
    protocol_major: int
    protocol_minor: int
    agent: str
    run_id: str
    events_endpoint: str
    observe_endpoint: str
    instance_id: str
    start_seq: int
    def __init__(self, protocol_major: _Optional[int] = ..., protocol_minor: _Optional[int] = ..., agent: _Optional[str] = ..., run_id: _Optional[str] = ..., events_endpoint: _Optional[str] = ..., observe_endpoint: _Optional[str] = ..., instance_id: _Optional[str] = ..., start_seq: _Optional[int] = ...) -> None: ...

class Pause(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Resume(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Stop(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckpointNow(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Ping(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SnapshotRequest(_message.Message):
    __slots__ = ("after_seq",)
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    def __init__(self, after_seq: _Optional[int] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("id", "protocol_major", "hello", "pause", "resume", "stop", "checkpoint_now", "ping", "snapshot")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MAJOR_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    PAUSE_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_NOW_FIELD_NUMBER: _ClassVar[int]
    PING_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    id: str
    protocol_major: int
    hello: Hello
    pause: Pause
    resume: Resume
    stop: Stop
    checkpoint_now: CheckpointNow
    ping: Ping
    snapshot: SnapshotRequest
    def __init__(self, id: _Optional[str] = ..., protocol_major: _Optional[int] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., pause: _Optional[_Union[Pause, _Mapping]] = ..., resume: _Optional[_Union[Resume, _Mapping]] = ..., stop: _Optional[_Union[Stop, _Mapping]] = ..., checkpoint_now: _Optional[_Union[CheckpointNow, _Mapping]] = ..., ping: _Optional[_Union[Ping, _Mapping]] = ..., snapshot: _Optional[_Union[SnapshotRequest, _Mapping]] = ...) -> None: ...

class CommandResult(_message.Message):
    __slots__ = ("id", "ok", "message", "state", "hello", "snapshot")
    ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    id: str
    ok: bool
    message: str
    state: RunState
    hello: Hello
    snapshot: Snapshot
    def __init__(self, id: _Optional[str] = ..., ok: _Optional[bool] = ..., message: _Optional[str] = ..., state: _Optional[_Union[RunState, str]] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., snapshot: _Optional[_Union[Snapshot, _Mapping]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("run_id", "seq", "first_seq", "status", "config_json", "events", "bad_frames", "instance_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    FIRST_SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    BAD_FRAMES_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    seq: int
    first_seq: int
    status: Status
    config_json: str
    events: _containers.RepeatedCompositeFieldContainer[Event]
    bad_frames: int
    instance_id: str
    def __init__(self, run_id: _Optional[str] = ..., seq: _Optional[int] = ..., first_seq: _Optional[int] = ..., status: _Optional[_Union[Status, _Mapping]] = ..., config_json: _Optional[str] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., bad_frames: _Optional[int] = ..., instance_id: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("state", "step", "total", "epoch", "backend", "message", "run_dir", "world_size")
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RUN_DIR_FIELD_NUMBER: _ClassVar[int]
    WORLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    state: RunState
    step: int
    total: int
    epoch: int
    backend: str
    message: str
    run_dir: str
    world_size: int
    def __init__(self, state: _Optional[_Union[RunState, str]] = ..., step: _Optional[int] = ..., total: _Optional[int] = ..., epoch: _Optional[int] = ..., backend: _Optional[str] = ..., message: _Optional[str] = ..., run_dir: _Optional[str] = ..., world_size: _Optional[int] = ...) -> None: ...

class Metrics(_message.Message):
    __slots__ = ("step", "epoch", "loss", "reward_mean", "reward_std", "reward_min", "reward_max", "grad_norm", "lr", "step_seconds", "samples_per_second", "tf_tensors", "tf_bytes", "rss_bytes", "scalars")
    class ScalarsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    REWARD_MEAN_FIELD_NUMBER: _ClassVar[int]
    REWARD_STD_FIELD_NUMBER: _ClassVar[int]
    REWARD_MIN_FIELD_NUMBER: _ClassVar[int]
    REWARD_MAX_FIELD_NUMBER: _ClassVar[int]
    GRAD_NORM_FIELD_NUMBER: _ClassVar[int]
    LR_FIELD_NUMBER: _ClassVar[int]
    STEP_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    TF_TENSORS_FIELD_NUMBER: _ClassVar[int]
    TF_BYTES_FIELD_NUMBER: _ClassVar[int]
    RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    SCALARS_FIELD_NUMBER: _ClassVar[int]
    step: int
    epoch: int
    loss: float
    reward_mean: float
    reward_std: float
    reward_min: float
    reward_max: float
    grad_norm: float
    lr: float
    step_seconds: float
    samples_per_second: float
    tf_tensors: int
    tf_bytes: float
    rss_bytes: float
    scalars: _containers.ScalarMap[str, float]
    def __init__(self, step: _Optional[int] = ..., epoch: _Optional[int] = ..., loss: _Optional[float] = ..., reward_mean: _Optional[float] = ..., reward_std: _Optional[float] = ..., reward_min: _Optional[float] = ..., reward_max: _Optional[float] = ..., grad_norm: _Optional[float] = ..., lr: _Optional[float] = ..., step_seconds: _Optional[float] = ..., samples_per_second: _Optional[float] = ..., tf_tensors: _Optional[int] = ..., tf_bytes: _Optional[float] = ..., rss_bytes: _Optional[float] = ..., scalars: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Image(_message.Message):
    __slots__ = ("png", "prompt", "prompt_metadata_json", "reward", "width", "height", "path")
    PNG_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_METADATA_JSON_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    prompt: str
    prompt_metadata_json: str
    reward: float
    width: int
    height: int
    path: str
    def __init__(self, png: _Optional[bytes] = ..., prompt: _Optional[str] = ..., prompt_metadata_json: _Optional[str] = ..., reward: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., path: _Optional[str] = ...) -> None: ...

class ImageBatch(_message.Message):
    __slots__ = ("step", "images", "pixels_dropped")
    STEP_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    PIXELS_DROPPED_FIELD_NUMBER: _ClassVar[int]
    step: int
    images: _containers.RepeatedCompositeFieldContainer[Image]
    pixels_dropped: bool
    def __init__(self, step: _Optional[int] = ..., images: _Optional[_Iterable[_Union[Image, _Mapping]]] = ..., pixels_dropped: _Optional[bool] = ...) -> None: ...

class Log(_message.Message):
    __slots__ = ("level", "message")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    level: LogLevel
    message: str
    def __init__(self, level: _Optional[_Union[LogLevel, str]] = ..., message: _Optional[str] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("message", "source", "exit_code", "signal", "stderr_tail")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    STDERR_TAIL_FIELD_NUMBER: _ClassVar[int]
    message: str
    source: str
    exit_code: int
    signal: str
    stderr_tail: str
    def __init__(self, message: _Optional[str] = ..., source: _Optional[str] = ..., exit_code: _Optional[int] = ..., signal: _Optional[str] = ..., stderr_tail: _Optional[str] = ...) -> None: ...

class CheckpointSaved(_message.Message):
    __slots__ = ("step", "epoch", "path", "reason")
    STEP_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    step: int
    epoch: int
    path: str
    reason: str
    def __init__(self, step: _Optional[int] = ..., epoch: _Optional[int] = ..., path: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("phase", "item", "done", "total", "unit", "rate", "items_done", "items_total")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    phase: str
    item: str
    done: float
    total: float
    unit: str
    rate: float
    items_done: int
    items_total: int
    def __init__(self, phase: _Optional[str] = ..., item: _Optional[str] = ..., done: _Optional[float] = ..., total: _Optional[float] = ..., unit: _Optional[str] = ..., rate: _Optional[float] = ..., items_done: _Optional[int] = ..., items_total: _Optional[int] = ...) -> None: ...

class EvalResult(_message.Message):
    __slots__ = ("step", "monitors", "images", "seeds")
    class MonitorsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    MONITORS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    SEEDS_FIELD_NUMBER: _ClassVar[int]
    step: int
    monitors: _containers.ScalarMap[str, float]
    images: ImageBatch
    seeds: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, step: _Optional[int] = ..., monitors: _Optional[_Mapping[str, float]] = ..., images: _Optional[_Union[ImageBatch, _Mapping]] = ..., seeds: _Optional[_Iterable[int]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("run_id", "seq", "time_unix_ms", "status", "metrics", "images", "log", "error", "checkpoint", "progress", "eval")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    EVAL_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    seq: int
    time_unix_ms: float
    status: Status
    metrics: Metrics
    images: ImageBatch
    log: Log
    error: Error
    checkpoint: CheckpointSaved
    progress: Progress
    eval: EvalResult
    def __init__(self, run_id: _Optional[str] = ..., seq: _Optional[int] = ..., time_unix_ms: _Optional[float] = ..., status: _Optional[_Union[Status, _Mapping]] = ..., metrics: _Optional[_Union[Metrics, _Mapping]] = ..., images: _Optional[_Union[ImageBatch, _Mapping]] = ..., log: _Optional[_Union[Log, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., checkpoint: _Optional[_Union[CheckpointSaved, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., eval: _Optional[_Union[EvalResult, _Mapping]] = ...) -> None: ...
