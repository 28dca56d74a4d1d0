//! What `imagegen rehearse` prints once it listens: the endpoint (the `Listening on URL` line
//! scripts read), the console, the administrator's credentials, and the stack's outputs as `cdk
//! deploy` prints them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use imagegen_local::config::AccessKey;

pub fn banner(
    endpoint: &str,
    data_dir: &Path,
    administrator: &AccessKey,
    ca_bundle: &Path,
    region: &str,
    outputs: &BTreeMap<String, String>,
    started_in: Duration,
) -> String {
    let data = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let mut out = String::new();
    let _ = writeln!(out, "\nListening on {endpoint}");
    let _ = writeln!(
        out,
        "Console:        {endpoint}{}  (open it in a browser that trusts the CA below)",
        imagegen_console::PREFIX
    );
    let _ = writeln!(out, "Data directory: {}", data.display());
    let _ = writeln!(out, "Started in {:.1} s", started_in.as_secs_f64());
    let _ = writeln!(out, "\nOutputs:");
    for (name, value) in outputs {
        let _ = writeln!(out, "{name} = {value}");
    }
    let _ = writeln!(out, "\nCredentials (an administrator of the account):");
    let _ = writeln!(out, "  export AWS_ACCESS_KEY_ID={}", administrator.id);
    let _ = writeln!(
        out,
        "  export AWS_SECRET_ACCESS_KEY={}",
        administrator.secret
    );
    let _ = writeln!(out, "  export AWS_DEFAULT_REGION={region}");
    let _ = writeln!(out, "  export AWS_ENDPOINT_URL={endpoint}");
    let _ = writeln!(
        out,
        "  export AWS_CA_BUNDLE={}   # the twin's own CA (HTTPS, as AWS)",
        ca_bundle.display()
    );
    let _ = writeln!(
        out,
        "\nFunction logs: {}. Emails: {}. Ctrl-C stops.\n",
        data.join("logs").display(),
        data.join("outbox").display()
    );
    out
}
