#include <ruby.h>

static VALUE greeting_hello(VALUE self) {
  return rb_str_new_cstr("compiled hello");
}

void Init_greeting(void) {
  VALUE mod = rb_define_module("Greeting");
  rb_define_module_function(mod, "hello", greeting_hello, 0);
}
