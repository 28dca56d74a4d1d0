//! Ctrl-C (SIGINT) and SIGTERM, for the commands that stop in order rather than die: `serve`, and
//! `run` and `upload`, which record their execution `ABORTED` (and its user is emailed) first.

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a Ctrl-C that comes right after the banner (before the server's
/// loop first polls it) would otherwise meet the default action and kill the process. `command`
/// names the command in a warning when a signal cannot be watched.
pub fn interrupted(command: &'static str) -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (interrupt, terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let watch = |signal: std::io::Result<tokio::signal::unix::Signal>,
                         name: &'static str| async move {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(e) => {
                        // Without a handler the signal's default (ending the process) still applies.
                        eprintln!("{command}: cannot watch for {name} ({e})");
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                () = watch(interrupt, "Ctrl-C") => {}
                () = watch(terminate, "SIGTERM") => {}
            }
        }
        #[cfg(not(unix))]
        if let Err(e) = tokio::signal::ctrl_c().await {
            eprintln!("{command}: cannot watch for Ctrl-C ({e})");
            std::future::pending::<()>().await;
        }
    }
}
