// codecbench_cpp.cpp: the same values through Apache Thrift's C++ library (TBinaryProtocol
// over TMemoryBuffer, code from `thrift --gen cpp`), timed like the C half.
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "codecbench.h"
#include "kvstore_types.h"

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TBinaryProtocolT;
using apache::thrift::transport::TMemoryBuffer;

namespace {

std::string key_of(uint32_t pair)
{
    std::string s(CB_KEY_LEN, '\0');
    for (uint32_t i = 0; i < CB_KEY_LEN; i++)
        s[i] = static_cast<char>(cb_key_byte(pair, i));
    return s;
}

std::string value_of(uint32_t pair)
{
    std::string s(CB_VALUE_LEN, '\0');
    for (uint32_t i = 0; i < CB_VALUE_LEN; i++)
        s[i] = static_cast<char>(cb_value_byte(pair, i));
    return s;
}

// Best-of-repeats nanoseconds per call of op.
template <typename Op> double time_op(const cb_config *cfg, Op op)
{
    uint64_t n = 1;
    for (;;) { // calibrate: enough iterations for run_ms
        uint64_t t0 = cb_now_ns();
        for (uint64_t i = 0; i < n; i++)
            op();
        uint64_t dt = cb_now_ns() - t0;
        if (dt >= cfg->run_ms * 1e6 / 4)
            break;
        n *= 2;
    }
    n *= 4;
    double best = 1e300;
    for (int r = 0; r < cfg->repeats; r++) {
        uint64_t t0 = cb_now_ns();
        for (uint64_t i = 0; i < n; i++)
            op();
        best = std::min(best, static_cast<double>(cb_now_ns() - t0) / static_cast<double>(n));
    }
    return best;
}

// Encode: reset the buffer, write. Decode: a fresh object, read, destroy (as ours frees).
// Proto is TBinaryProtocol (virtual calls into the transport, what most code uses) or
// TBinaryProtocolT<TMemoryBuffer> (the transport's calls resolved at compile time).
template <typename Proto, typename T>
int bench(const cb_config *cfg, const T &value, cb_timing *out, uint8_t *bytes, size_t cap)
{
    auto buf = std::make_shared<TMemoryBuffer>(4096);
    Proto proto(buf);
    value.write(&proto);
    uint8_t *data;
    uint32_t len;
    buf->getBuffer(&data, &len);
    if (len > cap) {
        std::fprintf(stderr, "codecbench: C++ encoding larger than %zu bytes\n", cap);
        return -1;
    }
    std::memcpy(bytes, data, len);
    out->bytes = len;
    volatile uint32_t sink = 0;
    out->encode_ns = time_op(cfg, [&] {
        buf->resetBuffer();
        value.write(&proto);
        sink = sink + buf->available_read();
    });
    auto in = std::make_shared<TMemoryBuffer>();
    Proto in_proto(in);
    out->decode_ns = time_op(cfg, [&] {
        in->resetBuffer(bytes, len, TMemoryBuffer::OBSERVE);
        T got;
        sink = sink + got.read(&in_proto);
        in->readEnd(); // what readMessageEnd does: resets the consumed-size budget
    });
    (void)sink;
    return 0;
}

} // namespace

extern "C" int cb_cpp_run(const cb_config *cfg, int variant, cb_timing *set, cb_timing *range,
                          uint8_t *set_bytes, size_t set_cap, uint8_t *range_bytes,
                          size_t range_cap)
{
    try {
        kvstore::SetRequest req;
        req.__set_key(key_of(0));
        req.__set_value(value_of(0));
        kvstore::GetRangeResponse resp;
        for (uint32_t j = 0; j < CB_RANGE_PAIRS; j++) {
            kvstore::KeyValue kv;
            kv.__set_key(key_of(j));
            kv.__set_value(value_of(j));
            resp.key_values.push_back(kv);
        }
        resp.__set_has_more(true);
        resp.__set_success(true);
        resp.__set_version(CB_RANGE_VERSION);
        int rc = variant == CB_CPP_GENERIC
                     ? bench<TBinaryProtocol>(cfg, req, set, set_bytes, set_cap) |
                           bench<TBinaryProtocol>(cfg, resp, range, range_bytes, range_cap)
                     : bench<TBinaryProtocolT<TMemoryBuffer>>(cfg, req, set, set_bytes, set_cap) |
                           bench<TBinaryProtocolT<TMemoryBuffer>>(cfg, resp, range, range_bytes,
                                                                  range_cap);
        if (rc != 0)
            return -1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "codecbench: Apache Thrift C++: %s\n", e.what());
        return -1;
    }
    return 0;
}
