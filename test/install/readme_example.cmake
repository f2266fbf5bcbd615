# Installs secctx from BINARY_DIR into a scratch prefix, takes the first ```cpp block of README.md,
# builds it with find_package(secctx CONFIG) against the installed package, and runs it.
set(work ${WORK_DIR})
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work}/example)

execute_process(COMMAND ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/prefix
                RESULT_VARIABLE result OUTPUT_QUIET)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "cmake --install failed")
endif()

include(${CMAKE_CURRENT_LIST_DIR}/../docs/cpp_block.cmake)
file(READ ${README} readme)
secctx_cpp_block("${readme}" "" code)
file(WRITE ${work}/example/main.cpp "${code}")
file(WRITE ${work}/example/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.25)
project(readme_example LANGUAGES CXX)
find_package(secctx CONFIG REQUIRED)
add_executable(readme_example main.cpp)
target_link_libraries(readme_example PRIVATE secctx::secctx)
]=])

execute_process(COMMAND ${CMAKE_COMMAND} -S ${work}/example -B ${work}/build -G Ninja
                        -DCMAKE_PREFIX_PATH=${work}/prefix -DCMAKE_CXX_COMPILER=${CXX}
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "configuring the README example against the installed package failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${work}/build RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "building the README example failed")
endif()
execute_process(COMMAND ${work}/build/readme_example RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the README example exited with ${result}")
endif()
