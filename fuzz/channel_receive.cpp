// The secure channel's receive path after a real handshake: arbitrary bytes, cut into transport
// reads as the input says, read by the client's or the server's channel with read_some. The
// handshake is made per input from reset random streams, so its keys are the same on every run:
// the corpus holds real records from the peer (data, KeyUpdate, close_notify, alerts) that
// decrypt, and the fuzzer edits them.
//
// Input: an options byte (bit 0: TLS 1.2; bit 1: the server's channel reads, else the client's;
// bit 2: scatter reads into two segments; bit 3: the peer closes the transport at the end), a
// read size byte, the chunking (fuzz/common.hpp), then the bytes.
#include "common.hpp"

using namespace secctx;

namespace {

template <class Channel>
void receive(Channel& channel, memory_transport& peer, fuzz::input& in) {
    const std::uint8_t options = in.byte();
    const std::size_t read_size = std::size_t{in.byte()} * 67 + 1;
    fuzz::chunking split(in);
    const auto payload = in.rest();
    const bool scatter = (options & 4) != 0;
    bool close = (options & 8) != 0;
    std::vector<std::byte> into(read_size);
    std::size_t sent = 0;
    std::size_t plaintext = 0;
    io_result r;
    for (;;) {
        if (scatter) {
            const std::span<std::byte> whole(into);
            const std::span<std::byte> segments[] = {whole.first(read_size / 2),
                                                     whole.subspan(read_size / 2)};
            r = channel.read_some(segments);
        } else {
            r = channel.read_some(into);
        }
        fuzz::check(r.bytes <= read_size, "read_some returns at most what fits");
        plaintext += r.bytes;
        fuzz::drain(peer);
        if (r.error && r.error != errc::would_block)
            break;
        if (r.bytes != 0)
            continue;
        if (sent == payload.size()) {
            if (!close)
                break;
            close = false;
            peer.close();
            continue;
        }
        const std::size_t n = split.next(payload.size() - sent);
        fuzz::put(peer, payload.subspan(sent, n));
        sent += n;
    }
    fuzz::check(plaintext <= sent, "no more plaintext than ciphertext");
    if (r.error && r.error != errc::would_block) {
        const io_result again = channel.read_some(std::span(into));
        fuzz::check(again.bytes == 0 && again.error == r.error,
                    "an end of stream or a failure is returned again");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    fuzz::input options_only = in;
    const std::uint8_t options = options_only.byte();
    fuzz::channel_pair pair(fuzz::version_from(options));
    if ((options & 2) != 0) {
        fuzz::draw_from(fuzz::server_stream);
        receive(*pair.server, pair.handshakes.server_side, in);
    } else {
        fuzz::draw_from(fuzz::client_stream);
        receive(*pair.client, pair.handshakes.client_side, in);
    }
    return 0;
}
