use clap::Parser;
use groupement::cli::{self, Cli, CliError, Command};
use groupement::{db, demo, Application, Settings};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::from(error.exit_code())
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GROUPEMENT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,highs=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Award(args) => cli::award::run(&args),
        Command::Pool(args) => cli::pool::run(&args),
        Command::Import(command) => cli::import::run(&command),
        Command::Export(args) => cli::export::run(&args),
        Command::MailWorker(args) => cli::mail_worker::run(&args),
        Command::Worker(args) => cli::worker::run(&args),
        Command::VerifyReceipt(args) => cli::receipt::verify(&args),
        Command::ReceiptKey => cli::receipt::new_key(),
        Command::Seal(args) => cli::seal::run(&args),
        Command::Migrate => {
            let settings = Settings::from_env().map_err(|e| e.to_string())?;
            db::open(&settings.database_url).map_err(|e| e.to_string())?;
            println!("database {:?} is up to date", settings.database_url);
            Ok(())
        }
        Command::Serve { bind, demo } => {
            let mut settings = Settings::from_env().map_err(|e| e.to_string())?;
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            let pool = db::open(&settings.database_url).map_err(|e| e.to_string())?;
            if demo {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                let base_url = match settings.base_url_configured {
                    true => settings.base_url.clone(),
                    false => format!("http://{}", settings.bind),
                };
                match demo::seed_if_empty_at(&mut conn, &base_url).map_err(|e| e.detailed())? {
                    Some(summary) => println!("{summary}"),
                    None => println!("demo: the database already has data, nothing seeded"),
                }
            }
            serve(settings, pool).map_err(CliError::Fatal)
        }
    }
}

#[actix_web::main]
async fn serve(settings: Settings, pool: db::Pool) -> Result<(), String> {
    let app = Application::build(settings, pool).map_err(|e| e.to_string())?;
    println!("Groupement is serving at {}", app.url());
    app.run_until_stopped().await.map_err(|e| e.to_string())
}
