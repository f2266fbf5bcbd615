// Checks shared by the secure channel's tests.
#pragma once

#include "support/drive.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>

namespace secctx::test {

// After a failure the channel is spent: the context is gone and every call says the same.
template <class Channel>
void check_failed_for_good(Channel& channel, errc expected) {
    BOOST_TEST_MESSAGE(text(channel.error()) << " (" << channel.error_detail() << ")");
    BOOST_TEST(text(channel.error()) == text(expected));
    BOOST_TEST(channel.provider().native_handle() == nullptr);
    const bytes data = to_bytes("more");
    const std::span<const std::byte> pieces[] = {data, data};
    std::byte into[64];
    const auto soon = [] { return clock::now() + std::chrono::seconds(5); };
    for (int again = 0; again < 2; ++again) {
        BOOST_TEST(text(channel.read_some(into).error) == text(expected));
        BOOST_TEST(text(channel.read(into, soon()).error) == text(expected));
        BOOST_TEST(text(channel.write_some(data).error) == text(expected));
        BOOST_TEST(text(channel.write_some(pieces).error) == text(expected));
        BOOST_TEST(text(channel.encrypt(data)) == text(expected));
        const decrypt_result d = channel.decrypt(into);
        BOOST_TEST((d.status == provider_status::error));
        BOOST_TEST(text(d.error) == text(expected));
        BOOST_TEST(text(channel.flush()) == text(expected));
        BOOST_TEST(text(channel.shutdown_send()) == text(expected));
        BOOST_TEST(text(channel.update_keys(false)) == text(expected));
        BOOST_TEST(text(channel.shutdown(soon())) == text(expected));
    }
}

} // namespace secctx::test
