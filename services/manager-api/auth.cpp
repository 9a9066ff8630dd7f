// The password policy, sessions and login limits (pure; see auth.hpp).
#include "auth.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace hasys::manager {

std::vector<std::string> password_problems(const std::string& user, const std::string& password,
                                           bool strong) {
  std::vector<std::string> out;
  if (password.empty()) out.emplace_back("the password is empty");
  if (password.size() > 72) out.emplace_back("the password is longer than 72 bytes");
  if (!password.empty() && password == user) out.emplace_back("the password is the user's name");
  if (strong) {
    auto any = [&](auto pred) {
      return std::any_of(password.begin(), password.end(),
                         [&](char c) { return pred(static_cast<unsigned char>(c)); });
    };
    if (password.size() < 8) out.emplace_back("the password has fewer than 8 characters");
    if (!any([](unsigned char c) { return std::islower(c); }))
      out.emplace_back("the password has no lower-case letter");
    if (!any([](unsigned char c) { return std::isdigit(c); }))
      out.emplace_back("the password has no digit");
    if (!any([](unsigned char c) { return std::ispunct(c) || c == ' '; }))
      out.emplace_back("the password has no special character");
  }
  return out;
}

std::string session_id(const std::string& token) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

const session& session_table::open(const std::string& user, clock::time_point now) {
  session s;
  s.token = random_();
  s.id = session_id(s.token);
  s.csrf = random_();
  s.user = user;
  s.last_seen = s.saved = now;
  auto id = s.id;
  const auto& kept = sessions_.insert_or_assign(std::move(id), std::move(s)).first->second;
  if (listener_.saved) listener_.saved(kept);
  return kept;
}

void session_table::restore(std::string id, std::string csrf, std::string user,
                            clock::duration idle_for, clock::time_point now) {
  if (idle_for > idle_ || idle_for < clock::duration::zero()) return;
  session s;
  s.id = id;
  s.csrf = std::move(csrf);
  s.user = std::move(user);
  s.last_seen = s.saved = now - idle_for;
  sessions_.insert_or_assign(std::move(id), std::move(s));
}

const session* session_table::use(const std::string& token, clock::time_point now) {
  auto it = sessions_.find(session_id(token));
  if (it == sessions_.end()) return nullptr;
  if (now - it->second.last_seen > idle_) {
    const auto id = it->first;
    sessions_.erase(it);
    if (listener_.removed) listener_.removed(id);
    return nullptr;
  }
  it->second.last_seen = now;
  if (now - it->second.saved >= save_every) {
    it->second.saved = now;
    if (listener_.saved) listener_.saved(it->second);
  }
  return &it->second;
}

void session_table::close(const std::string& id) {
  if (sessions_.erase(id) && listener_.removed) listener_.removed(id);
}

void session_table::close_user(const std::string& user, const std::string& except_id) {
  const auto n = std::erase_if(
      sessions_, [&](const auto& kv) { return kv.second.user == user && kv.first != except_id; });
  if (n && listener_.removed_user) listener_.removed_user(user, except_id);
}

std::optional<std::chrono::seconds> login_limiter::blocked_for(
    const std::map<std::string, record>& m, const std::string& key, clock::time_point now) const {
  auto it = m.find(key);
  if (it == m.end()) return std::nullopt;
  const auto& f = it->second.failures;
  const auto recent =
      std::count_if(f.begin(), f.end(), [&](clock::time_point t) { return now - t <= o_.window; });
  if (recent < o_.max_failures) return std::nullopt;
  const auto until = f.back() + o_.lockout;
  if (until <= now) return std::nullopt;
  return std::chrono::ceil<std::chrono::seconds>(until - now);
}

std::optional<std::chrono::seconds> login_limiter::blocked(const std::string& user,
                                                           const std::string& address,
                                                           clock::time_point now) const {
  auto u = blocked_for(by_user_, user, now);
  auto a = blocked_for(by_address_, address, now);
  if (u && a) return std::max(*u, *a);
  return u ? u : a;
}

void login_limiter::add(std::map<std::string, record>& m, const std::string& key,
                        clock::time_point now) {
  auto& f = m[key].failures;
  std::erase_if(f, [&](clock::time_point t) { return now - t > o_.window; });
  f.push_back(now);
  // Bounded: only the latest max_failures matter.
  if (f.size() > static_cast<std::size_t>(o_.max_failures)) f.erase(f.begin());
  // An address spraying user names must not grow the table without end.
  if (m.size() > 100000) m.erase(m.begin());
}

void login_limiter::failed(const std::string& user, const std::string& address,
                           clock::time_point now) {
  add(by_user_, user, now);
  add(by_address_, address, now);
}

void login_limiter::succeeded(const std::string& user, const std::string& address) {
  by_user_.erase(user);
  by_address_.erase(address);
}

}  // namespace hasys::manager
