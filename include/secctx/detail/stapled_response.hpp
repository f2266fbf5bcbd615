// A server's OCSP response for stapling (server_config::ocsp_response_file), as any provider
// keeps it: read from a file that outside tooling replaces (nginx's ssl_stapling_file model),
// read again when the file changes, and offered only while it is current. Thread-safe: every
// handshake of the credentials asks for it, on whatever thread it runs.
#pragma once

#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace secctx::detail {

// What an engine found in a DER OCSP response for the server's own certificate.
struct staple_facts {
    std::string problem;                    // empty: the response may be stapled
    std::optional<std::time_t> next_update; // none: no expiry was given
};

class stapled_response {
public:
    using reader = std::function<staple_facts(const std::string& der)>;

    // Reads `path` with `read`, the engine's parser. Returns what is wrong with the file or its
    // response (naming the file), or an empty string.
    std::string open(std::string path, reader read) {
        path_ = std::move(path);
        read_ = std::move(read);
        const std::lock_guard lock(mutex_);
        return load();
    }

    // The response to staple now, or null: none current. A file that changed is read again; a
    // new response that is wrong keeps the last good one (the tooling may be mid-write).
    std::shared_ptr<const std::string> current() {
        const std::lock_guard lock(mutex_);
        const std::time_t t = now();
        static_cast<void>(load());
        if (!der_ || (next_update_ && *next_update_ <= t))
            return nullptr;
        return der_;
    }

private:
    struct file_state {
        dev_t device = 0;
        ino_t inode = 0;
        off_t size = -1;
        std::time_t modified = 0;
        long modified_ns = 0;

        bool operator==(const file_state&) const = default;
    };

    static std::time_t now() noexcept { return std::time(nullptr); }

    // Caller holds the lock.
    std::string load() {
        struct stat info {};
        if (::stat(path_.c_str(), &info) != 0)
            return "the OCSP response file " + path_ + " cannot be read";
        const file_state state{info.st_dev, info.st_ino, info.st_size, info.st_mtim.tv_sec,
                               info.st_mtim.tv_nsec};
        if (state == seen_)
            return problem_;
        seen_ = state;
        std::ifstream in(path_, std::ios::binary);
        std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) {
            problem_ = "the OCSP response file " + path_ + " cannot be read";
            return problem_;
        }
        staple_facts facts = read_(der);
        if (!facts.problem.empty()) {
            problem_ = "the OCSP response in " + path_ + ": " + facts.problem;
            return problem_;
        }
        problem_.clear();
        der_ = std::make_shared<const std::string>(std::move(der));
        next_update_ = facts.next_update;
        return {};
    }

    std::mutex mutex_;
    std::string path_;
    reader read_;
    file_state seen_;
    std::string problem_; // of the file as last seen
    std::shared_ptr<const std::string> der_;
    std::optional<std::time_t> next_update_;
};

} // namespace secctx::detail
