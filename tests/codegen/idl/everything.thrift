# everything.thrift: one of every IDL construct thriftc supports; the tests round-trip it.
namespace cpp everything
namespace * everything

include "shared.thrift"

// Constants of each base type, and one that names another constant.
const i32 ANSWER = 42
const i64 BIG = 0x7fffffffffff
const double HALF = 0.5
const double TWO = 2
const string GREETING = "hello \"world\"\n"
const bool YES = true
const i8 SMALL = -8
const i32 SAME_ANSWER = ANSWER
const shared.Color FAVORITE = shared.Color.GREEN

typedef i64 Version
typedef list<string> Names
typedef shared.Point Where

enum Mode {
  OFF,          // 0
  ON = 5,
  AUTO          /* 6 */
}

struct Scalars {
  1: bool b,
  2: byte y,
  3: i8 i8v,
  4: i16 s,
  5: i32 i,
  6: i64 l,
  7: double d,
  8: string str,
  9: binary bin,
  10: Mode mode,
  11: Version version,
}

struct Defaults {
  1: optional i32 count = 7;
  2: string name = "anon";
  3: optional Mode mode = Mode.AUTO;
  4: double ratio = 1.25;
  5: list<i32> primes = [2, 3, 5];
  6: map<string, i64> weights = {"a": 1, "b": 2};
  7: optional bool flag = YES;
  8: i16 negative = -3;
  9: shared.Color color = shared.Color.BLUE;
}

struct Nested {
  1: required list<list<i32>> grid,
  2: optional map<string, list<shared.Point>> paths,
  3: optional set<binary> tags,
  4: optional map<i32, map<string, Scalars>> deep,
  5: optional list<map<Mode, set<i64>>> mixed,
  6: Names names,
  7: optional Where where,
  8: optional list<Version> versions,
  9: optional list<double> reals,
  10: optional list<bool> flags,
}

struct Holder {
  1: required Scalars scalars,
  2: optional Defaults defaults,
  3: optional Nested nested,
  4: required shared.Point origin,
}

// Recursive through a list: nesting depth is limited when reading.
struct Tree {
  1: i32 value,
  2: list<Tree> children
}

union Choice {
  1: i32 number,
  2: string text,
  3: shared.Point point,
  4: list<string> words
}

exception Oops {
  1: required i32 code,
  2: optional string message
}

service Everything extends shared.Base {
  void reset(),
  Holder echo(1: Holder h, 2: i64 stamp) throws (1: Oops oops, 2: shared.NotFound missing),
  i32 add(1: i32 a, 2: i32 b),
  oneway void fire(1: Choice c, 2: optional string note),
  list<Tree> forest(1: required set<string> names, 3: Mode mode) throws (1: Oops oops),
  void mayFail() throws (1: Oops oops)
}

service Derived extends Everything {
  bool ping()
}

service Empty {
}
