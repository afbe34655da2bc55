"""The type-engine conformance cases shared by `types_oracle.py`.

Each case is (name, python type, python value). The Rust test
`crates/flytekit/tests/type_conformance.rs` declares the same names with the equivalent Rust type
and value. Files and directories are handled separately (their values are paths).
"""

import datetime
import enum
import typing
from dataclasses import dataclass, field

from flytekit.types.directory import FlyteDirectory
from flytekit.types.file import FlyteFile

UTC = datetime.timezone.utc


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Level(enum.Enum):
    # Rust: #[serde(rename_all = "SCREAMING_SNAKE_CASE")] enum Level { Low, VeryHigh }
    LOW = "LOW"
    VERY_HIGH = "VERY_HIGH"


@dataclass
class Point:
    x: float
    y: float


@dataclass
class Inner:
    name: str
    tags: typing.List[str]
    weight: typing.Optional[float]


@dataclass
class Everything:
    id: int
    label: str
    ok: bool
    ratio: float
    color: Color
    inner: Inner
    points: typing.List[Point]
    counts: typing.Dict[str, int]
    maybe: typing.Optional[Inner]
    when: datetime.datetime
    took: datetime.timedelta
    nested: typing.List[typing.List[int]]
    by_name: typing.Dict[str, Point]
    note: str = "none"
    retries: int = 3
    extra: typing.List[str] = field(default_factory=list)


@dataclass
class Config:
    # Rust: `r#type: String`, `#[serde(rename = "max_retries")] retries: i64`,
    # `#[serde(default)] timeout: Option<f64>`, `#[serde(default = "...")] level: Level`.
    type: str
    max_retries: int
    timeout: typing.Optional[float] = None
    level: Level = Level.LOW


@dataclass
class WithBlobs:
    # Rust: `report: FlyteFile`, `data: FlyteDirectory`, `extra: Option<FlyteFile>`.
    report: FlyteFile
    data: FlyteDirectory
    extra: typing.Optional[FlyteFile] = None


def everything() -> Everything:
    return Everything(
        id=7,
        label="all the things",
        ok=True,
        ratio=0.25,
        color=Color.BLUE,
        inner=Inner(name="in", tags=["a", "b"], weight=None),
        points=[Point(1.0, 2.0), Point(-3.5, 4.25)],
        counts={"x": 1, "y": -2},
        maybe=Inner(name="maybe", tags=[], weight=1.5),
        when=datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=UTC),
        took=datetime.timedelta(seconds=90.5),
        nested=[[1, 2], [], [3]],
        by_name={"origin": Point(0.0, 0.0)},
        note="custom",
        retries=5,
        extra=["e"],
    )


CASES = [
    ("int", int, 42),
    ("int_neg", int, -7),
    ("int_big", int, 2**62),
    ("i8", int, -128),
    ("u8", int, 255),
    ("i16", int, 32767),
    ("u16", int, 65535),
    ("i32", int, -(2**31)),
    ("u32", int, 2**32 - 1),
    ("float", float, 3.25),
    ("float_neg", float, -1e-300),
    ("f32", float, 1.5),
    ("str", str, "héllo ✓ \n\t\"quoted\""),
    ("str_empty", str, ""),
    ("bool_true", bool, True),
    ("bool_false", bool, False),
    ("datetime", datetime.datetime, datetime.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=UTC)),
    ("datetime_epoch", datetime.datetime, datetime.datetime(1970, 1, 1, tzinfo=UTC)),
    ("datetime_old", datetime.datetime, datetime.datetime(1900, 6, 1, 0, 0, 1, tzinfo=UTC)),
    ("duration", datetime.timedelta, datetime.timedelta(days=1, seconds=3, microseconds=500)),
    ("duration_zero", datetime.timedelta, datetime.timedelta(0)),
    ("list_int", typing.List[int], [1, 2, 3]),
    ("list_empty", typing.List[str], []),
    ("list_nested", typing.List[typing.List[int]], [[1], [2, 3], []]),
    ("dict_float", typing.Dict[str, float], {"a": 1.5, "b": -2.0}),
    ("dict_empty", typing.Dict[str, int], {}),
    ("dict_nested", typing.Dict[str, typing.List[str]], {"k": ["v1", "v2"], "e": []}),
    ("dict_dict", typing.Dict[str, typing.Dict[str, int]], {"outer": {"inner": 1}}),
    ("opt_some", typing.Optional[int], 5),
    ("opt_none", typing.Optional[int], None),
    ("opt_str", typing.Optional[str], "s"),
    ("opt_list", typing.Optional[typing.List[str]], ["a", "b"]),
    ("opt_list_none", typing.Optional[typing.List[str]], None),
    ("list_opt", typing.List[typing.Optional[int]], [1, None, 3]),
    ("opt_datetime", typing.Optional[datetime.datetime], datetime.datetime(2001, 1, 1, tzinfo=UTC)),
    ("enum", Color, Color.GREEN),
    ("enum_renamed", Level, Level.VERY_HIGH),
    ("list_enum", typing.List[Color], [Color.RED, Color.BLUE]),
    ("opt_enum", typing.Optional[Color], Color.RED),
    ("struct", Point, Point(1.5, -2.0)),
    ("struct_nested", Everything, everything()),
    ("struct_config", Config, Config(type="batch", max_retries=2, timeout=None, level=Level.VERY_HIGH)),
    (
        "struct_blobs",
        WithBlobs,
        WithBlobs(report=FlyteFile("s3://bucket/r.txt"), data=FlyteDirectory("s3://bucket/d"), extra=None),
    ),
    ("list_struct", typing.List[Point], [Point(0.0, 1.0), Point(2.0, 3.0)]),
    ("opt_struct", typing.Optional[Point], Point(9.0, 8.0)),
    ("opt_struct_none", typing.Optional[Point], None),
    ("dict_struct", typing.Dict[str, Inner], {"k": Inner(name="n", tags=["t"], weight=2.0)}),
]

# Dataclasses written in the legacy generic (JSON Struct) form; only read by Rust.
LEGACY_CASES = [
    ("legacy_struct", Point, Point(1.0, -2.5)),
    ("legacy_struct_nested", Everything, everything()),
]

# Files and directories: (name, python type). Their contents are fixed by the oracle.
BLOB_CASES = [
    ("file", FlyteFile),
    ("file_csv", FlyteFile["csv"]),
    ("dir", FlyteDirectory),
]

FILE_CONTENT = "hello through flyte\n"
DIR_CONTENT = {"a.txt": "A", "sub/b.txt": "B"}
