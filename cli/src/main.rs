//! `imagegen`: see the library crate for what it does.

use std::process::ExitCode;

use clap::Parser;
use imagegen_cli::args::Cli;
use imagegen_cli::commands;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match commands::runtime(cli.fast_retries) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("imagegen: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(commands::execute(&cli, &mut stdout)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Error text can quote file names and keys: never let it drive the terminal.
            let text = e.to_string();
            eprintln!(
                "imagegen: {}",
                imagegen_core::display::escape_controls_keep_newlines(&text)
            );
            ExitCode::from(2)
        }
    }
}
