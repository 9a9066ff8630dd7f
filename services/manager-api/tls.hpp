// The manager's TLS (M1: TLS 1.2 or newer, AES-256-GCM or ChaCha20 only): the context from the
// configured certificate and key, or from a self-signed pair made at first start.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace hasys::manager {

// Loads cert and key; when neither file exists (or only one, of a pair it made itself and was
// killed while writing: <key>.self-signed says so), makes a self-signed certificate (EC P-256,
// 10 years, for `host` and 127.0.0.1) and writes both first (the key 0600). Throws
// std::runtime_error naming the file and the problem.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(const std::filesystem::path& cert,
                                                            const std::filesystem::path& key,
                                                            const std::string& host);

}  // namespace hasys::manager
