# Fuzz target for the loop IR text parser (fuzz_loop_parse.c): parse, verify,
# print/re-parse, simplify, print/re-parse. Meant to be include()d at the end
# of tests/fuzz/CMakeLists.txt, after aicc_objs got the fuzzer
# instrumentation; a no-op without AICC_FUZZ. Manual long run:
#   build-fuzz/tests/fuzz/fuzz_loop_parse -dict=tests/fuzz/loop.dict DIR tests/fuzz/corpus/fuzz_loop_parse
if(NOT AICC_FUZZ OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  return()
endif()
add_executable(fuzz_loop_parse ${CMAKE_CURRENT_LIST_DIR}/fuzz_loop_parse.c)
target_link_libraries(fuzz_loop_parse PRIVATE aicc_objs)
target_compile_options(fuzz_loop_parse PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_loop_parse PRIVATE -fsanitize=fuzzer,address,undefined)

# Bounded run as a test; new inputs go to the build tree, seeds stay untouched.
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/corpus_loop)
add_test(NAME fuzz_loop_parse_smoke
  COMMAND fuzz_loop_parse -max_total_time=20 -rss_limit_mb=2048 -timeout=10
          -dict=${CMAKE_CURRENT_LIST_DIR}/loop.dict
          ${CMAKE_CURRENT_BINARY_DIR}/corpus_loop ${CMAKE_CURRENT_LIST_DIR}/corpus/fuzz_loop_parse)
set_tests_properties(fuzz_loop_parse_smoke PROPERTIES TIMEOUT 120 LABELS fuzz
  ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
