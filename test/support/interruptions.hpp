// Signals that interrupt a thread blocked in poll(), one at a time, counted by their handler.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace secctx::test {

inline std::atomic<int> interruptions_handled{0};

extern "C" inline void count_interruption(int) {
    interruptions_handled.fetch_add(1);
}

// Installs a SIGUSR1 handler without SA_RESTART, so that poll() in the target thread returns
// EINTR for each signal; the old handler comes back on destruction.
class interruptions {
public:
    interruptions() {
        struct sigaction action {};
        action.sa_handler = count_interruption;
        sigemptyset(&action.sa_mask);
        action.sa_flags = 0;
        installed_ = ::sigaction(SIGUSR1, &action, &old_) == 0;
        interruptions_handled = 0;
    }
    ~interruptions() {
        if (installed_)
            ::sigaction(SIGUSR1, &old_, nullptr);
    }
    interruptions(const interruptions&) = delete;
    interruptions& operator=(const interruptions&) = delete;

    bool installed() const noexcept { return installed_; }
    int handled() const noexcept { return interruptions_handled.load(); }

    // Sends `count` signals to `target`, each once the one before was handled: two pending
    // signals of one kind merge into one. The pauses only make it likely that the signals find
    // the target in poll(); the tests hold either way.
    void send(pthread_t target, int count, std::chrono::steady_clock::time_point deadline) const {
        for (int i = 0; i < count; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            ::pthread_kill(target, SIGUSR1);
            while (handled() <= i && std::chrono::steady_clock::now() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

private:
    struct sigaction old_ {};
    bool installed_ = false;
};

} // namespace secctx::test
