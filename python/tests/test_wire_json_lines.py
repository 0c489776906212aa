"""JSON lines as the TS side writes them (the byte-for-byte comparison with protobuf-es is in test/bridge-python)."""

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.json_lines import js_number, to_json_line


def test_numbers_are_written_as_javascript_writes_them():
    cases = {
        1.0: "1",
        -3.25: "-3.25",
        0.1: "0.1",
        1e21: "1e+21",
        1e20: "100000000000000000000",
        1e-7: "1e-7",
        1.5e-7: "1.5e-7",
        1e-6: "0.000001",
        1.23e-18: "1.23e-18",
        2.0**53: "9007199254740992",
        5e-324: "5e-324",
        1.7976931348623157e308: "1.7976931348623157e+308",
        -0.0: "0",
    }
    assert {x: js_number(x) for x in cases} == cases


def test_an_event_is_one_compact_camel_case_line_without_zero_fields_but_with_negative_zero():
    event = pb.Event(run_id="r", seq=3, time_unix_ms=1.0, metrics=pb.Metrics(step=2, loss=-0.0, reward_std=0.0))
    assert to_json_line(event) == '{"runId":"r","seq":3,"timeUnixMs":1,"metrics":{"step":2,"loss":0}}'


def test_enums_are_names_bytes_are_base64_and_non_finite_numbers_are_strings():
    event = pb.Event(
        status=pb.Status(state=pb.RUN_STATE_DONE, message='"päused" ✓\n'),
        seq=1,
    )
    assert to_json_line(event) == '{"seq":1,"status":{"state":"RUN_STATE_DONE","message":"\\"päused\\" ✓\\n"}}'
    images = pb.Event(images=pb.ImageBatch(images=[pb.Image(png=b"\x01\x02", reward=float("-inf"))]))
    assert to_json_line(images) == '{"images":{"images":[{"png":"AQI=","reward":"-Infinity"}]}}'
