# The protocol's test vectors, one CTest test per file:
# vectors.<dir>.<file> runs proto/vectors/<dir>/<file>.jsonl with
# test_vectors (tests/integration/test_vectors.c) against a real kicd.
# Included from tests/CMakeLists.txt after KIC_TEST_ENV and the integration
# test executables are defined (test_vectors is one of them).
file(GLOB KIC_VECTOR_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/proto/vectors/*/*.jsonl)
foreach(file ${KIC_VECTOR_FILES})
  get_filename_component(dir ${file} DIRECTORY)
  get_filename_component(dir ${dir} NAME)
  get_filename_component(base ${file} NAME)
  string(REGEX REPLACE "\\.jsonl$" "" base ${base})
  add_test(NAME vectors.${dir}.${base} COMMAND test_vectors ${file})
  set_tests_properties(vectors.${dir}.${base} PROPERTIES ENVIRONMENT "${KIC_TEST_ENV}" TIMEOUT 600)
endforeach()
