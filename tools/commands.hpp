// The tool's commands, each given the arguments after its name; each returns the process's exit
// code (0 success, 1 failure, 2 a usage error).
#pragma once

namespace secctx::tool {

int run_demo(int argc, char** argv);
int run_server(int argc, char** argv);
int run_client(int argc, char** argv);

} // namespace secctx::tool
