# Fuzz target for the graph IR text parser (fuzz_ir_parse.c). Meant to be
# include()d at the end of tests/fuzz/CMakeLists.txt, after aicc_objs got
# the fuzzer instrumentation; a no-op without AICC_FUZZ. Manual long run:
#   build-fuzz/tests/fuzz/fuzz_ir_parse -dict=tests/fuzz/ir.dict DIR tests/fuzz/corpus/fuzz_ir_parse
# (AICC_FUZZ_VERIFY=1 also runs the verifier and inference on each model).
if(NOT AICC_FUZZ OR NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  return()
endif()
add_executable(fuzz_ir_parse ${CMAKE_CURRENT_LIST_DIR}/fuzz_ir_parse.c)
target_link_libraries(fuzz_ir_parse PRIVATE aicc_objs)
target_compile_options(fuzz_ir_parse PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_ir_parse PRIVATE -fsanitize=fuzzer,address,undefined)

# Bounded run as a test; new inputs go to the build tree, seeds stay untouched.
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/corpus_ir)
add_test(NAME fuzz_ir_parse_smoke
  COMMAND fuzz_ir_parse -max_total_time=20 -rss_limit_mb=2048 -timeout=10
          -dict=${CMAKE_CURRENT_LIST_DIR}/ir.dict
          ${CMAKE_CURRENT_BINARY_DIR}/corpus_ir ${CMAKE_CURRENT_LIST_DIR}/corpus/fuzz_ir_parse)
set_tests_properties(fuzz_ir_parse_smoke PROPERTIES TIMEOUT 120 LABELS fuzz)
