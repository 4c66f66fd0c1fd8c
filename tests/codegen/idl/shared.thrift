/* shared.thrift: types another IDL file includes (tests include handling). */
namespace c shared

enum Color { RED = 1, GREEN, BLUE = 10 }

struct Point {
  1: required i32 x,
  2: required i32 y
}

exception NotFound {
  1: string what
}

service Base {
  string version(),
  oneway void poke(1: i32 times)
}
