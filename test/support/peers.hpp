// Running real peers (openssl, gnutls, curl, the secctx tool) from tests: their PEM files, a free
// loopback port, and a command's output.
#pragma once

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace secctx::test {

// A directory of PEM files for command-line peers, removed at the end.
struct pem_files {
    explicit pem_files(const std::string& purpose)
        : directory(std::filesystem::temp_directory_path() /
                    ("secctx-" + purpose + "-" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(directory);
    }
    ~pem_files() { std::filesystem::remove_all(directory); }
    pem_files(const pem_files&) = delete;
    pem_files& operator=(const pem_files&) = delete;

    std::string write(const std::string& name, const std::string& pem) const {
        const auto path = directory / name;
        std::ofstream(path) << pem;
        return path.string();
    }

    std::filesystem::path directory;
};

// A loopback TCP port nobody listens on now (a peer started next will take it).
inline unsigned short free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), size);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    ::close(fd);
    return ntohs(address.sin_port);
}

// What `command` (run by /bin/sh) prints on its standard output.
inline std::string run(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    BOOST_TEST_REQUIRE(pipe != nullptr);
    std::array<char, 4096> chunk{};
    while (const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), pipe))
        out.append(chunk.data(), n);
    ::pclose(pipe);
    return out;
}

} // namespace secctx::test
