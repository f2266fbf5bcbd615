# Compiles SOURCE, which must fail, and checks that the diagnostic contains EXPECT.
# LC_ALL=C: the diagnostic quotes with ASCII apostrophes whatever the locale.
execute_process(
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${COMPILER} -std=c++20 -fsyntax-only -I${INCLUDE} ${SOURCE}
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected")
endif()
string(FIND "${out}${err}" "${EXPECT}" where)
if(where EQUAL -1)
    message(FATAL_ERROR "the diagnostic does not name the requirement '${EXPECT}':\n${err}")
endif()
message(STATUS "rejected as expected, naming '${EXPECT}'")
