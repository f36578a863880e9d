//! Command-line arguments (clap derive; the doc comments are the help text).

use atf_runs::request;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// AlgoTradeForge: fast, honest backtests and parameter optimization.
#[derive(Debug, Parser)]
#[command(name = "atf", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before any subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// Where datasets, the catalog and run results live
    /// [default: $XDG_DATA_HOME/atf or ~/.local/share/atf]
    #[arg(long, env = "ATF_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import and list market data.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Backtest one strategy on one dataset.
    Backtest(Box<BacktestArgs>),
    /// Run every combination of a parameter grid and rank them.
    Optimize(Box<OptimizeArgs>),
    /// Walk-forward: optimize each in-sample window, trade the winner on the
    /// out-of-sample window after it, stitch the out-of-sample equity.
    Walkforward(Box<WalkForwardArgs>),
    /// List the strategies and their parameters.
    Strategies(StrategiesArgs),
    /// Serve the HTTP API (and, later, the dashboard): long runs in the
    /// background with progress, cancellation and SQLite persistence.
    Serve(Box<ServeArgs>),
    /// Run chunks of a `serve --redis-url` coordinator's optimizations on
    /// this machine's cores (scale-out).
    Worker(Box<WorkerArgs>),
    /// Write a new crate for your own strategies: one example strategy,
    /// its test, and a main that is a complete atf with it.
    New(NewArgs),
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Directory of the new crate (created; must not exist or be empty).
    pub dir: std::path::PathBuf,
    /// Crate name [default: the directory's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The atf checkout to depend on, by path [default: the one this binary
    /// was built from].
    #[arg(long, value_name = "DIR", conflicts_with = "atf_git")]
    pub atf_path: Option<std::path::PathBuf>,
    /// Depend on atf from a git repository instead of a path.
    #[arg(long, value_name = "URL")]
    pub atf_git: Option<String>,
    /// With --atf-git: the branch, tag or commit [default: the default branch].
    #[arg(long, value_name = "REV", requires = "atf_git")]
    pub atf_rev: Option<String>,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The coordinator's Redis (`redis://[:password@]host:port[/db]`).
    #[arg(
        long,
        env = "ATF_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis_url: String,
    /// The coordinator's URL, to fetch datasets from [default: the one it
    /// advertises in Redis].
    #[arg(long, env = "ATF_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// The coordinator's API token.
    #[arg(
        long,
        env = "ATF_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,
    /// Threads running a chunk [default: every core].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// This worker's name [default: host-pid].
    #[arg(long)]
    pub name: Option<String>,
    /// Where fetched datasets are kept, by checksum [default: DATA_DIR/worker-cache].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Take over chunks another worker left pending this long (seconds).
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub reclaim_after: u64,
    /// Without --server: send the API token to the URL the coordinator
    /// advertises in Redis (anyone who can write to that Redis could
    /// advertise theirs).
    #[arg(long, conflicts_with = "server")]
    pub trust_advertised_server: bool,
    /// A PEM file of the CA that signed a rediss:// server's certificate
    /// [default: the system's roots].
    #[arg(long, env = "ATF_REDIS_CA", value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Anything but loopback requires --api-token.
    #[arg(
        long,
        env = "ATF_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR:PORT"
    )]
    pub bind: String,
    /// Require `Authorization: Bearer <TOKEN>` on every /api request.
    #[arg(
        long,
        env = "ATF_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,
    /// Keep run progress in Redis instead of this process's memory
    /// (`redis://[:password@]host:port[/db]`).
    #[arg(
        long,
        env = "ATF_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,
    /// Backtests running at once (the rest wait as Pending).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub backtest_slots: u16,
    /// Optimizations and walk-forwards running at once (one queue; the
    /// rest wait as Pending).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub optimization_slots: u16,
    /// Threads of each optimization [default: every core].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Largest grid accepted.
    #[arg(long, env = "ATF_MAX_COMBINATIONS", default_value_t = atf_engine::grid::DEFAULT_MAX_COMBINATIONS)]
    pub max_combinations: u64,
    /// Most equity-curve points an optimization's kept trials may store
    /// together (`top` × the period's bars): bounds what one request writes.
    #[arg(long, env = "ATF_MAX_KEPT_POINTS", default_value_t = atf_runs::plan::DEFAULT_MAX_KEPT_POINTS, value_name = "N")]
    pub max_kept_points: u64,
    /// Largest dataset upload, in MiB.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    pub max_upload_mb: usize,
    #[command(flatten)]
    pub import_limits: ImportLimitArgs,
    /// With --redis-url: leave optimizations' chunks to `atf worker`
    /// processes instead of also running them here.
    #[arg(long, requires = "redis_url")]
    pub no_local_worker: bool,
    /// With --redis-url: the URL workers reach this server at
    /// [default: http://BIND_ADDRESS].
    #[arg(long, value_name = "URL", requires = "redis_url")]
    pub advertise_url: Option<String>,
    /// With --redis-url: the local worker takes over chunks another
    /// worker left pending this long (seconds).
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub reclaim_after: u64,
    /// A name besides the bound address and localhost that requests may
    /// carry in Host and Origin (repeatable; `NAME` for any port,
    /// `NAME:PORT` for one): the others are refused against DNS rebinding.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// Runs of one kind that may wait for a slot; a submission beyond it
    /// answers 429 with Retry-After.
    #[arg(long, default_value_t = atf_runs::service::DEFAULT_MAX_PENDING as u32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_pending: u32,
    /// Event streams open at once; beyond, 503 (clients poll instead).
    #[arg(long, default_value_t = atf_server::DEFAULT_MAX_EVENT_STREAMS as u32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_event_streams: u32,
    /// Seconds a client may take to send a request's headers (slowloris);
    /// also how long an idle keep-alive connection stays open.
    #[arg(long, default_value_t = atf_server::serve::DEFAULT_HEADER_TIMEOUT.as_secs(), value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub header_timeout: u64,
    /// Threads running requests' blocking work (SQLite, Redis, imports) at
    /// most; more requests wait for one (bounds the server's memory).
    #[arg(long, default_value_t = atf_server::serve::DEFAULT_BLOCKING_THREADS as u16, value_name = "N", value_parser = clap::value_parser!(u16).range(4..=512))]
    pub blocking_threads: u16,
    /// On SIGTERM or Ctrl-C: how long runs in flight may take to be saved
    /// as Cancelled, and open connections to finish (seconds).
    #[arg(long, default_value_t = atf_server::serve::DEFAULT_SHUTDOWN_GRACE.as_secs(), value_name = "SECS", value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub shutdown_grace: u64,
    /// Attempts at saving a finished run (disk full, database busy) before
    /// it is recorded Failed with the reason.
    #[arg(long, default_value_t = atf_runs::service::DEFAULT_SAVE_ATTEMPTS, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub save_attempts: u32,
    /// The first wait between two save attempts, doubling after each
    /// (milliseconds).
    #[arg(long, default_value_t = atf_runs::service::DEFAULT_SAVE_BACKOFF.as_millis() as u64, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub save_backoff_ms: u64,
    /// With --redis-url: a PEM file of the CA that signed a rediss://
    /// server's certificate [default: the system's roots].
    // no `requires`: an ATF_REDIS_CA shared with workers must not stop a
    // server without Redis
    #[arg(long, env = "ATF_REDIS_CA", value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,
    /// With --redis-url: a distributed run fails once one of its chunks
    /// failed this many deliveries (refused, failed, or a wrong result).
    #[arg(long, default_value_t = atf_runs::distributed::limits::DEFAULT_MAX_DELIVERIES, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub chunk_attempts: u64,
    /// With --redis-url: a distributed run fails after this long without
    /// a chunk recorded (seconds).
    #[arg(long, default_value_t = atf_runs::distributed::limits::DEFAULT_STALL_TIMEOUT.as_secs(), value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub stall_timeout: u64,
    /// With --redis-url: a distributed run fails after Redis did not
    /// answer for this long (seconds).
    #[arg(long, default_value_t = atf_runs::distributed::limits::DEFAULT_REDIS_GRACE.as_secs(), value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub redis_grace: u64,
    /// With --redis-url: an in-flight run's progress in Redis reads
    /// `Failed` once not renewed for this long (the server died; seconds).
    #[arg(long, default_value_t = atf_runs::redis_client::DEFAULT_LEASE.as_secs(), value_name = "SECS", value_parser = clap::value_parser!(u64).range(2..=86_400))]
    pub redis_lease: u64,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Import a CSV (optionally .gz), Binance kline, MetaTrader or Parquet file.
    Import(ImportArgs),
    /// List imported datasets.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import.
    pub file: PathBuf,
    /// Dataset name [default: the file name without extensions].
    #[arg(long)]
    pub name: Option<String>,
    /// Instrument symbol [default: the name's first word, uppercased].
    #[arg(long)]
    pub symbol: Option<String>,
    /// Price decimals to enforce instead of detecting them.
    #[arg(long, value_name = "N")]
    pub price_decimals: Option<u8>,
    /// Print the imported dataset as JSON.
    #[arg(long)]
    pub json: bool,
    /// Largest file imported, in MiB.
    #[arg(long, default_value_t = atf_data::limits::DEFAULT_MAX_FILE_BYTES >> 20, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_file_mb: u64,
    #[command(flatten)]
    pub import_limits: ImportLimitArgs,
}

/// The bounds of an import (`atf data import`, and `atf serve`'s uploads).
#[derive(Debug, Args)]
pub struct ImportLimitArgs {
    /// Largest size a gzip source may expand to, in MiB.
    #[arg(long, default_value_t = atf_data::limits::DEFAULT_MAX_DECOMPRESSED_BYTES >> 20, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_decompressed_mb: u64,
    /// Bytes a gzip source (or Parquet's pages) may expand to per byte of file.
    #[arg(long, default_value_t = atf_data::limits::DEFAULT_MAX_GZIP_RATIO, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_gzip_ratio: u64,
    /// Expansion allowed whatever the ratio, in MiB.
    #[arg(long, default_value_t = atf_data::limits::DEFAULT_GZIP_FLOOR_BYTES >> 20, value_name = "MIB")]
    pub gzip_floor_mb: u64,
    /// Most bars in one dataset.
    #[arg(long, default_value_t = atf_data::limits::DEFAULT_MAX_ROWS, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_rows: u64,
}

impl ImportLimitArgs {
    /// The limits, with `max_file_bytes` as given.
    #[must_use]
    pub fn limits(&self, max_file_bytes: u64) -> atf_data::ImportLimits {
        atf_data::ImportLimits {
            max_file_bytes,
            max_decompressed_bytes: self.max_decompressed_mb.saturating_mul(1 << 20),
            max_gzip_ratio: self.max_gzip_ratio,
            gzip_floor_bytes: self.gzip_floor_mb.saturating_mul(1 << 20),
            max_rows: self.max_rows,
        }
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StrategiesArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Costs, cash and sizing, shared by every command that runs the engine.
#[derive(Debug, Args, Clone)]
pub struct RunSettings {
    /// Initial cash in the quote currency.
    #[arg(long, default_value = request::DEFAULT_CASH, allow_hyphen_values = true)]
    pub cash: String,
    /// Commission in percent of each fill's notional (0.1 = 0.1 %).
    #[arg(
        long,
        default_value = request::DEFAULT_COMMISSION_PCT,
        value_name = "PCT",
        allow_hyphen_values = true
    )]
    pub commission_pct: String,
    /// Fixed commission per order, in the quote currency.
    #[arg(
        long,
        default_value = request::DEFAULT_COMMISSION_FIXED,
        value_name = "AMOUNT",
        allow_hyphen_values = true
    )]
    pub commission_fixed: String,
    /// Slippage in ticks against the trader on market and stop fills.
    #[arg(
        long,
        default_value_t = request::DEFAULT_SLIPPAGE_TICKS,
        value_name = "TICKS",
        allow_hyphen_values = true
    )]
    pub slippage_ticks: i64,
    /// Order size as percent of equity (100 = all-in).
    #[arg(
        long,
        default_value = request::DEFAULT_SIZE_PCT,
        value_name = "PCT",
        conflicts_with = "size_qty"
    )]
    pub size_pct: String,
    /// Fixed order quantity instead of a percent of equity.
    #[arg(long, value_name = "QTY")]
    pub size_qty: Option<String>,
    /// Decimal places of quantities (0 = whole units; 3 for 0.001 BTC).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub qty_decimals: u8,
    /// Dataset name or id [default: spy-1m, the bundled demo].
    #[arg(long, default_value = "spy-1m")]
    pub dataset: String,
    /// First bar to include (date or timestamp, UTC).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last bar to include (a date includes that whole day).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Strategy timeframe (1m, 5m, 15m, 1h, 4h, 1d, …) [default: the dataset's].
    #[arg(long, value_name = "TF")]
    pub timeframe: Option<String>,
    /// Bars (at the timeframe) before --from the strategy warms up on; no
    /// order placed on them is filled [default: 0, at most 100000].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub warmup: Option<String>,
    /// Strategy parameter, repeatable: --param fast=10.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
}

/// Where a run works: here, or on a running `atf serve`.
#[derive(Debug, Args, Clone)]
pub struct RemoteArgs {
    /// Run on this `atf serve` (http://HOST:PORT) instead of here: the run is
    /// submitted, followed with the same progress bar and printed the same
    /// way; Ctrl-C asks whether to cancel it or leave it running.
    #[arg(long, env = "ATF_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for --server (the server's --api-token).
    #[arg(
        long,
        env = "ATF_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,
}

impl RemoteArgs {
    /// The server URL, if one was given (an empty `ATF_SERVER` is none).
    pub fn server(&self) -> Option<&str> {
        self.server
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Strategy name (see `atf strategies`).
    #[arg(long, default_value = "sma-cross")]
    pub strategy: String,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Print one JSON object (metrics, equity curve, trades) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write the trades to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub trades_csv: Option<PathBuf>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

/// `--top`'s default: the API's.
#[allow(
    clippy::cast_possible_truncation,
    reason = "the default top is 20, far below u32::MAX"
)]
const DEFAULT_TOP: u32 = atf_runs::plan::DEFAULT_TOP as u32;

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// Strategy name (see `atf strategies`).
    #[arg(long, default_value = "sma-cross")]
    pub strategy: String,
    /// Parameter axis, repeatable: a range `fast=5..50:5` or a list `fast=5,8,13`.
    #[arg(
        long = "axis",
        value_name = "NAME=MIN..MAX:STEP",
        required_unless_present = "resume"
    )]
    pub axes: Vec<String>,
    /// Skip combinations that break a relation, repeatable: `fast<slow`
    /// (also <=, >, >=, !=). Skipped combinations are counted, not failed.
    #[arg(long = "constraint", value_name = "A<B")]
    pub constraints: Vec<String>,
    /// The metric to rank by.
    #[arg(long, default_value = "sharpe", value_parser = parse_fitness)]
    pub maximize: atf_engine::optimize::Fitness,
    /// Best combinations kept with equity curve and trades (and shown in the table), at most 1,000.
    // range checked by the planner (`top`), as for the API
    #[arg(long, default_value_t = DEFAULT_TOP, value_name = "K")]
    pub top: u32,
    /// How combinations are picked: `grid` (every one, within
    /// --max-combinations), or a search of the axes' space within --budget
    /// trials: `random` (a seeded sample without repeats) or `genetic`
    /// (generations bred from the best trials so far).
    #[arg(long, default_value = "grid", value_parser = parse_method)]
    pub method: atf_runs::request::Method,
    /// Trials a search evaluates (required by --method random|genetic;
    /// constraint-skipped combinations do not count).
    #[arg(long, value_name = "N")]
    pub budget: Option<u64>,
    /// Seed of a search's generator [default: one chosen at random, printed
    /// with the result]; the same seed repeats the same search.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Resume the cancelled optimization ID on the --server: its own
    /// request, keeping the trials it recorded and running only the rest
    /// (the request flags are not used).
    #[arg(long, value_name = "ID")]
    pub resume: Option<String>,
    /// Worker threads [default: all cores] (local runs only: a server uses
    /// its own `atf serve --threads`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Largest grid accepted, in combinations (local runs; a server applies
    /// its own `atf serve --max-combinations`).
    #[arg(
        long,
        default_value_t = atf_engine::grid::DEFAULT_MAX_COMBINATIONS,
        env = "ATF_MAX_COMBINATIONS",
        value_name = "N"
    )]
    pub max_combinations: u64,
    /// Most equity-curve points the --top trials may hold together (`top` ×
    /// the period's bars; local runs, a server applies its own
    /// `atf serve --max-kept-points`).
    #[arg(
        long,
        default_value_t = atf_runs::plan::DEFAULT_MAX_KEPT_POINTS,
        env = "ATF_MAX_KEPT_POINTS",
        value_name = "N"
    )]
    pub max_kept_points: u64,
    #[command(flatten)]
    pub settings: RunSettings,
    /// Print one JSON object: the summary and every trial, best first.
    #[arg(long)]
    pub json: bool,
    /// With --json: also the best --top trials' full reports (equity curves and trades).
    #[arg(long, requires = "json")]
    pub curves: bool,
    /// Write every trial (rank, parameters, metrics, error if failed) to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

fn parse_method(s: &str) -> Result<atf_runs::request::Method, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| format!("unknown method '{s}' (grid, random, genetic)"))
}

fn parse_fitness(s: &str) -> Result<atf_engine::optimize::Fitness, String> {
    s.parse()
        .map_err(|e: atf_engine::optimize::UnknownFitness| e.to_string())
}

/// `atf walkforward`: `atf optimize`'s flags, the windows and the criteria.
#[derive(Debug, Args)]
pub struct WalkForwardArgs {
    #[command(flatten)]
    pub opt: OptimizeArgs,
    /// How in-sample windows move: `rolling` (fixed length, sliding) or
    /// `anchored` (all start at the period's start and grow).
    #[arg(long, default_value = "rolling", value_parser = ["rolling", "anchored"])]
    pub mode: String,
    /// In-sample length: a duration such as 180d, 12w, 6h.
    #[arg(long, value_name = "DURATION")]
    pub in_sample: Option<String>,
    /// Out-of-sample length (and the step from fold to fold).
    #[arg(long, value_name = "DURATION")]
    pub out_of_sample: Option<String>,
    /// Number of folds (instead of --in-sample / --out-of-sample).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub folds: Option<i64>,
    /// Out-of-sample share of each fold's span, between 0 and 1 (with --folds).
    #[arg(long, value_name = "F", allow_hyphen_values = true)]
    pub oos_fraction: Option<f64>,
    /// Pass when the walk-forward efficiency is at least this, % [default: 50].
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub min_wfe: Option<f64>,
    /// Pass when at least this share of folds is profitable out of sample, % [default: 50].
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub min_profitable_folds: Option<f64>,
    /// Pass when no fold makes this share of the out-of-sample profit or more, % [default: 50].
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub max_fold_profit_share: Option<f64>,
    /// Pass when the stitched out-of-sample max drawdown is at most this, % [default: 25].
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub max_drawdown: Option<f64>,
}
