// serve: files -> store -> translate -> publish, in one loop on the main thread, which
// also waits for signals. translate: the same pipeline once, printed as YAML.
#include "serve.h"

#include <signal.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <iostream>

#include "admin.h"
#include "gantry/common/log.h"
#include "gantry/controller/dump.h"
#include "gantry/controller/sources/file_source.h"
#include "gantry/proxy/worker_pool.h"

namespace gantry::cmd {
namespace json = boost::json;

namespace {

json::object status_list(json::array items) {
  return json::object{{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}};
}

}  // namespace

int run_translate(const Flags& flags) {
  controller::FileSource source(flags.manifests);
  controller::ScanReport report = source.scan();
  for (const auto& e : report.errors) std::cerr << e << "\n";
  controller::TranslateResult result = controller::translate(source.build_store(), flags.translate);
  json::object out{{"snapshot", controller::snapshot_to_json(result.snapshot)},
                   {"status", status_list(std::move(result.status))}};
  std::cout << controller::to_yaml(out);
  return report.errors.empty() ? 0 : 1;
}

int run_serve(const Flags& flags) {
  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  proxy::WorkerPool pool(flags.proxy);
  StatusBoard board;
  Admin admin(board, pool);
  if (auto ok = admin.start(flags.admin); !ok) {
    log::error(ok.error().message);
    return 2;
  }
  pool.start();
  log::info("gantry serving manifests; admin on " + flags.admin + ", " + std::to_string(flags.proxy.workers) +
            " workers");

  controller::FileSource source(flags.manifests);
  uint64_t version = 0;
  bool force = false;
  // The snapshot before the newest one. It is released here, once every worker has moved
  // on, so freeing a large table (thousands of compiled regexes) never stalls a worker.
  routing::SnapshotPtr retiring;
  for (;;) {
    if (retiring && pool.caught_up()) retiring.reset();
    auto started = std::chrono::steady_clock::now();
    controller::ScanReport report = source.scan();
    for (const auto& n : report.notes) log::info(n);
    for (const auto& e : report.errors) log::error(e + " (the last good version of this file stays in use)");
    // A broken file is reported once per change of the file, and counted until it is fixed.
    if (!report.errors.empty() || report.changed) board.set_errors(report.errors);
    if (report.changed || version == 0 || force) {
      force = false;
      auto scanned = std::chrono::steady_clock::now();
      controller::TranslateResult result = controller::translate(source.build_store(), flags.translate);
      result.snapshot.version = ++version;
      auto translated = std::chrono::steady_clock::now();
      auto snapshot = std::make_shared<const routing::Snapshot>(std::move(result.snapshot));
      retiring = board.snapshot();
      pool.publish(snapshot);
      board.publish(std::make_shared<const json::array>(std::move(result.status)), snapshot, report.errors);
      auto ms = [](auto a, auto b) {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count());
      };
      log::info("published snapshot version " + std::to_string(version) + " (read " + ms(started, scanned) +
                " ms, translate " + ms(scanned, translated) + " ms, publish " +
                ms(translated, std::chrono::steady_clock::now()) + " ms)");
    }
    timespec wait{flags.scan_interval_ms / 1000, (flags.scan_interval_ms % 1000) * 1'000'000L};
    int sig = sigtimedwait(&signals, nullptr, &wait);
    if (sig == SIGHUP) force = true;
    if (sig == SIGTERM || sig == SIGINT) {
      log::info("draining: no new connections; in-flight requests finish");
      break;
    }
  }
  pool.drain_and_stop();
  admin.stop();
  log::info("stopped");
  return 0;
}

}  // namespace gantry::cmd
