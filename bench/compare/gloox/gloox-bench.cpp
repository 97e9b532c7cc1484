// A small gloox 1.0 client for `./run bench compare`, written against gloox's
// public API only: BOSH through a ConnectionTCPClient to the connection
// manager's plain-HTTP port in ModePersistentHTTP (HTTP/1.1 connections kept
// alive), TLS off (as gloox's ConnectionBOSH documentation asks), SASL PLAIN:
// gloox 1.0.24's SCRAM-SHA-1 (its only SCRAM) sends the gs2 flag `y` and
// Prosody 0.12 answers <malformed-request/> "Invalid channel binding value".
// One measure per process; prints one
// JSON line on stdout. Built by bench/compare/run.mjs with g++ into a gitignored
// build directory.
//
//   gloox-bench login N     HOST PORT PATH DOMAIN USER PASS
//   gloox-bench rtt N       HOST PORT PATH DOMAIN USER PASS
//   gloox-bench rss 0       HOST PORT PATH DOMAIN USER PASS
//   gloox-bench tput N      HOST PORT PATH DOMAIN USER PASS PEER PEERPASS SECONDS
//   gloox-bench idle N      HOST PORT PATH DOMAIN USER PASS SECONDS
#include <gloox/client.h>
#include <gloox/connectionbosh.h>
#include <gloox/connectiontcpclient.h>
#include <gloox/connectionlistener.h>
#include <gloox/message.h>
#include <gloox/messagehandler.h>
#include <gloox/loghandler.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace gloox;

struct Args {
  std::string host, path, domain, user, pass;
  int port = 0;
};
static Args args;

static double nowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
static double epochMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}
static long rssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

/** With GLOOX_BENCH_DEBUG set, gloox's log (the XML traffic) goes to stderr. */
class StderrLog : public LogHandler {
 public:
  void handleLog(LogLevel, LogArea, const std::string& message) override { std::fprintf(stderr, "%s\n", message.c_str()); }
};
static StderrLog stderrLog;

/** One BOSH session: a Client with its ConnectionBOSH, and what it saw. */
class Session : public ConnectionListener, public MessageHandler {
 public:
  Client client;
  std::atomic<bool> connected{false};
  std::atomic<bool> failed{false};
  std::atomic<long> received{0};
  std::string lastBody;
  std::vector<unsigned char> seen;  // per message index: how often it arrived
  long duplicated = 0;

  Session(const std::string& user, const std::string& pass, const std::string& resource)
      : client(JID(user + "@" + args.domain + "/" + resource), pass) {
    client.setTls(TLSDisabled);
    client.setCompression(false);
    client.setSASLMechanisms(SaslMechPlain);
    auto* tcp = new ConnectionTCPClient(client.logInstance(), args.host, args.port);
    auto* bosh = new ConnectionBOSH(&client, tcp, client.logInstance(), args.domain, args.domain);
    bosh->setMode(ConnectionBOSH::ModePersistentHTTP);
    bosh->setPath(args.path);
    client.setConnectionImpl(bosh);
    if (std::getenv("GLOOX_BENCH_DEBUG") != nullptr) client.logInstance().registerLogHandler(LogLevelDebug, LogAreaAll, &stderrLog);
    client.registerConnectionListener(this);
    client.registerMessageHandler(this);
  }
  void onConnect() override { connected = true; }
  void onDisconnect(ConnectionError) override {
    if (!connected) failed = true;
  }
  bool onTLSConnect(const CertInfo&) override { return true; }
  void handleMessage(const Message& msg, MessageSession*) override {
    lastBody = msg.body();
    if (!seen.empty()) {
      long index = std::strtol(lastBody.c_str(), nullptr, 10);
      if (index >= 0 && index < static_cast<long>(seen.size())) {
        if (seen[index]++ > 0) duplicated++;
      }
    }
    received++;
  }
  /** Drives the session until `done` or `deadline` (steady ms). */
  template <typename Done>
  bool pump(Done done, double deadline) {
    while (!done()) {
      if (failed || nowMs() > deadline) return false;
      if (client.recv(1000) != ConnNoError && !done()) return false;
    }
    return true;
  }
  bool login(double deadline) {
    client.connect(false);
    return pump([this] { return connected.load(); }, deadline);
  }
};

static void printTimes(std::ostringstream& out, const char* name, const std::vector<double>& values) {
  out << "\"" << name << "\":[";
  for (size_t i = 0; i < values.size(); i++) out << (i ? "," : "") << values[i];
  out << "]";
}

static int fail(const std::string& why) {
  std::printf("{\"error\":\"%s\"}\n", why.c_str());
  std::fflush(stdout);
  _exit(1);
}

int main(int argc, char** argv) {
  if (argc < 9) return fail("usage: gloox-bench MEASURE N HOST PORT PATH DOMAIN USER PASS ...");
  std::string measure = argv[1];
  long n = std::strtol(argv[2], nullptr, 10);
  args.host = argv[3];
  args.port = std::atoi(argv[4]);
  args.path = argv[5];
  args.domain = argv[6];
  args.user = argv[7];
  args.pass = argv[8];
  std::ostringstream out;
  out.precision(6);
  out << std::fixed;

  if (measure == "login") {
    std::vector<double> times, starts, ends;
    for (long i = 0; i < n + 3; i++) {
      Session s(args.user, args.pass, "gloox-login");
      double start = nowMs(), startEpoch = epochMs();
      if (!s.login(start + 10000)) return fail("login failed");
      double elapsed = nowMs() - start, endEpoch = epochMs();
      s.client.disconnect();
      if (i >= 3) {
        times.push_back(elapsed);
        starts.push_back(startEpoch);
        ends.push_back(endEpoch);
      }
    }
    out << "{";
    printTimes(out, "times", times);
    out << ",";
    printTimes(out, "starts", starts);
    out << ",";
    printTimes(out, "ends", ends);
    out << ",\"mechanism\":\"PLAIN\"}";
  } else if (measure == "rtt" || measure == "rss") {
    Session s(args.user, args.pass, "gloox-rtt");
    if (!s.login(nowMs() + 10000)) return fail("login failed");
    if (measure == "rss") {
      out << "{\"rssKiB\":" << rssKiB() << "}";
    } else {
      std::vector<double> times;
      JID self = s.client.jid();
      for (long i = 0; i < n + 20; i++) {
        std::string body = "self-" + std::to_string(i);
        long before = s.received;
        double start = nowMs();
        s.client.send(Message(Message::Chat, self, body));
        if (!s.pump([&] { return s.received > before && s.lastBody == body; }, start + 10000))
          return fail("round trip timed out");
        if (i >= 20) times.push_back(nowMs() - start);
      }
      out << "{";
      printTimes(out, "times", times);
      out << "}";
    }
    s.client.disconnect();
  } else if (measure == "tput") {
    if (argc < 12) return fail("tput needs PEER PEERPASS SECONDS");
    std::string peer = argv[9], peerPass = argv[10];
    double seconds = std::atof(argv[11]);
    auto bob = std::make_unique<Session>(peer, peerPass, "gloox-tput-b");
    bob->seen.assign(n, 0);
    if (!bob->login(nowMs() + 10000)) return fail("bob's login failed");
    auto alice = std::make_unique<Session>(args.user, args.pass, "gloox-tput-a");
    if (!alice->login(nowMs() + 10000)) return fail("alice's login failed");
    JID to = bob->client.jid();
    std::atomic<bool> stop{false};
    // Each session on its own thread, as an application with two accounts would run them.
    double start = nowMs();
    double deadline = start + seconds * 1000;
    std::thread receiver([&] { bob->pump([&] { return stop.load() || bob->received >= n; }, deadline); });
    for (long i = 0; i < n; i++) alice->client.send(Message(Message::Chat, to, std::to_string(i)));
    alice->pump([&] { return bob->received >= n; }, deadline);
    receiver.join();
    double elapsed = nowMs() - start;
    long unique = 0;
    for (auto count : bob->seen) unique += count > 0 ? 1 : 0;
    out << "{\"sent\":" << n << ",\"received\":" << unique << ",\"duplicated\":" << bob->duplicated
        << ",\"ms\":" << elapsed << ",\"complete\":" << (unique >= n ? "true" : "false") << "}";
  } else if (measure == "idle") {
    if (argc < 10) return fail("idle needs SECONDS");
    double seconds = std::atof(argv[9]);
    long before = rssKiB();
    std::vector<std::unique_ptr<Session>> sessions;
    for (long i = 0; i < n; i++) sessions.push_back(std::make_unique<Session>(args.user, args.pass, "gloox-idle-" + std::to_string(i)));
    std::atomic<long> up{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    std::mutex loginLock;  // logins one after another: the login load, not the idle figure
    for (auto& s : sessions)
      threads.emplace_back([&, session = s.get()] {
        {
          std::lock_guard<std::mutex> guard(loginLock);
          if (!session->login(nowMs() + 20000)) return;
        }
        up++;
        while (!stop && session->client.recv(200000) == ConnNoError) {
        }
      });
    double waitUntil = nowMs() + 60000;
    while (up < n && nowMs() < waitUntil) usleep(10000);
    usleep(500000);
    long after = rssKiB();
    double idleStart = epochMs();
    timespec cpu0{}, cpu1{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
    usleep(static_cast<useconds_t>(seconds * 1e6));
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
    double idleEnd = epochMs();
    double cpuMs = (cpu1.tv_sec - cpu0.tv_sec) * 1e3 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e6;
    out << "{\"sessions\":" << up.load() << ",\"rssBeforeKiB\":" << before << ",\"rssAfterKiB\":" << after
        << ",\"idleStart\":" << idleStart << ",\"idleEnd\":" << idleEnd << ",\"cpuMs\":" << cpuMs << "}";
    std::printf("%s\n", out.str().c_str());
    std::fflush(stdout);
    _exit(0);  // the threads block in recv; the server ends the sessions after its inactivity time
  } else {
    return fail("unknown measure " + measure);
  }
  std::printf("%s\n", out.str().c_str());
  std::fflush(stdout);
  _exit(0);
}
