//! `motcua`: runs the whole suite in one process (`motcua up`), generates catalogues for load tests,
//! loads running services (`motcua bench`), and talks to them as a client.

mod audit;
mod bench;
mod client;
mod demo;
mod up;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// motcua — the one-stop shop of a Public Administrative Service Center.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs intake, signing, receipt and reporting in this process, each on its default port with its
    /// own SQLite file, until Ctrl-C or SIGTERM.
    Up {
        /// The address the four services listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// The folder of the SQLite files.
        #[arg(long, env = motcua_chassis::config::ENV_DATA_DIR, default_value = "data")]
        data_dir: String,
        /// PostgreSQL instead of SQLite: a URL in which `{service}` stands for each service's name
        /// (`postgres://postgres@127.0.0.1/motcua_{service}`); each database must exist.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Checks grpc.health.v1 of the four services.
    Health {
        /// The host the services run on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
    },
    /// Takes one dossier through the running suite (`motcua up`): filed, its slip and fee receipt issued,
    /// processed, supplemented, its result rendered, signed by the officer, approved and sealed by the
    /// leader, returned, rated, and counted by reporting.
    Demo {
        /// The host the services run on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// A folder to write the result, its signatures, the receipts, the chain, a checkpoint, the
        /// inclusion proofs, reporting's summary and VERIFY.md into.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Load against running services (`motcua up` on loopback): calls a second, latency percentiles
    /// and errors per scenario and concurrency, each beside its floors measured in the same run.
    Bench(bench::BenchArgs),
    /// Checks a service's audit trail, read straight from its database.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Lists procedures of the catalogue (intake.ListProcedures), following every page.
    Procedures {
        /// Free text, with or without diacritics.
        #[arg(long, default_value = "")]
        query: String,
        /// The intake service's URL.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        intake: String,
    },
    /// Writes a synthetic catalogue of COUNT procedures as seed files into OUT, for load tests; start
    /// intake with MOTCUA_INTAKE_SEED_DIR=OUT to serve it.
    GenerateCatalogue {
        /// How many procedures.
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// The folder to write the seed files into.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walks the trail's hash chain from the first record to the head and prints `verified N records,
    /// head <hex>`, or `MISMATCH at position P (record R): ...` (and exits non-zero) at the first record
    /// that no longer matches it.
    Verify {
        /// The service's database: `sqlite://path/to/intake.db` or `postgres://...`.
        #[arg(long)]
        database_url: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("motcua: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up { host, data_dir, database_url } => up::run(&host, &data_dir, database_url.as_deref()).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Health { host } => client::health(&host).await,
            Command::Demo { host, out } => demo::run(&host, out.as_deref()).await,
            Command::Audit { command: AuditCommand::Verify { database_url } } => audit::verify(&database_url).await,
            Command::Procedures { query, intake } => client::procedures(&intake, &query).await,
            Command::GenerateCatalogue { count, out } => {
                let seed = motcua_intake::seed::synthetic(count)?;
                motcua_intake::seed::write_folder(&seed, &out)?;
                println!(
                    "wrote {count} synthetic procedures and {} branches to {}",
                    seed.branches.len(),
                    out.display()
                );
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("motcua: {error:#}");
            ExitCode::FAILURE
        }
    }
}
