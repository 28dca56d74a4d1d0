//! The console under `imagegen rehearse`: the fixture rehearsed with `--native`, its pages fetched
//! over HTTPS trusting the twin's CA (curl), an execution started with the console's own form and
//! a prompt file dropped on its upload, each ending SUCCEEDED with its email. The console's
//! changes are the administrator's requests to the twin's endpoint, so they run as the person's
//! do, and the upload's notification is the template's, delivered to the function it names.

use std::path::Path;

use super::RUN;
use super::console::form;
use super::harness::{Curled, TempDir, curl, curl_api, eventually, messages};
use super::rehearse::{ca_bundle, fixture, output, rehearse};

#[test]
fn the_console_drives_the_rehearsed_stack_over_https() {
    let Some(curl) = curl() else { return };
    let dir = TempDir::new("rehearse-console");
    let built = Path::new(env!("CARGO_BIN_EXE_imagegen")).parent().unwrap();
    let served = rehearse(
        &dir.path().join("data"),
        &fixture(),
        &["--native", built.to_str().unwrap()],
    );
    let endpoint = served.endpoint.clone();
    assert!(endpoint.starts_with("https://"), "{endpoint}");
    let machine = output(&served, "StateMachineArn");
    let bucket = output(&served, "BucketName");
    let bundle = ca_bundle(&served);
    let cacert = bundle.to_str().unwrap();
    assert!(
        served
            .printed()
            .contains(&format!("Console:        {endpoint}/console/")),
        "{}",
        served.printed()
    );
    let get = |path: &str| -> Curled {
        let page = curl_api(
            &curl,
            None,
            &["--cacert", cacert],
            &format!("{endpoint}{path}"),
        );
        assert_eq!(page.status, 200, "{path}: {page:?}");
        page
    };
    // A change as the console's page makes it: same origin (HTTPS), the page's token.
    let origin = format!("Origin: {endpoint}");
    let post = |path: &str, extra: &[&str]| -> Curled {
        let mut args = vec![
            "--cacert",
            cacert,
            "-H",
            &origin,
            "-H",
            "Sec-Fetch-Site: same-origin",
        ];
        args.extend_from_slice(extra);
        curl_api(&curl, None, &args, &format!("{endpoint}{path}"))
    };

    // The template's state machine, described through the endpoint.
    let page = get("/console/state-machine");
    assert!(page.body.contains(&machine), "{}", page.body);
    assert!(page.body.contains("GenerateImage"), "{}", page.body);

    // The start page: the template's bucket and prefix, and the token.
    let start = get("/console/start");
    assert!(
        start.body.contains(&format!("s3://{bucket}/prompts/NAME")),
        "{}",
        start.body
    );
    let at = start.body.find(r#"name="csrf-token" content=""#).unwrap() + 27;
    let token = start.body[at..at + start.body[at..].find('"').unwrap()].to_owned();

    // The JSON box's form.
    let body = form(&[
        ("csrf", &token),
        ("name", "from-console"),
        ("input", r#"{"prompt":"a heron at dawn","seed":3}"#),
    ]);
    let started = post("/console/start", &["--data", &body]);
    assert_eq!(started.status, 303, "{started:?}");
    assert_eq!(
        started.header("location"),
        Some("/console/executions/from-console")
    );
    eventually(RUN, "from-console to succeed", || {
        get("/console/executions/from-console")
            .body
            .contains("status-succeeded")
            .then_some(())
    });
    let mail = eventually(RUN, "its email", || {
        let mail = messages(&served.data);
        (!mail.is_empty()).then_some(mail)
    });
    assert_eq!(mail.len(), 1, "{mail:#?}");
    assert_eq!(mail[0].attributes["status"], "SUCCEEDED");
    assert!(get("/console/outbox").body.contains("from-console"));

    // Over HTTPS a page from the plain-HTTP origin is another site: refused before the console.
    let http_origin = format!("Origin: {}", endpoint.replacen("https", "http", 1));
    let refused = curl_api(
        &curl,
        None,
        &["--cacert", cacert, "-H", &http_origin, "--data", &body],
        &format!("{endpoint}/console/start"),
    );
    assert_eq!(refused.status, 403, "{refused:?}");

    // A prompt file dropped on the page: stored through S3's route, whose notification (the
    // template's) starts the pipeline after the upload is answered; the page goes to the list.
    let token_header = format!("x-csrf-token: {token}");
    let dropped = post(
        "/console/upload?name=lighthouse.txt",
        &["-H", &token_header, "--data-binary", "a lighthouse at dusk"],
    );
    assert_eq!(dropped.status, 200, "{dropped:?}");
    assert_eq!(dropped.json()["key"], "prompts/lighthouse.txt");
    assert_eq!(dropped.json()["url"], "/console/");
    let mail = eventually(RUN, "the upload's email", || {
        let mail = messages(&served.data);
        (mail.len() == 2).then_some(mail)
    });
    assert!(
        mail.iter().all(|m| m.attributes["status"] == "SUCCEEDED"),
        "{mail:#?}"
    );
    let list = get("/console/");
    assert_eq!(
        list.body.matches("status-succeeded").count(),
        2,
        "{}",
        list.body
    );

    // A key no notification of the template takes is stored and starts nothing, saying so.
    let ignored = post(
        "/console/upload?name=notes.md",
        &["-H", &token_header, "--data-binary", "not a prompt"],
    );
    assert_eq!(ignored.status, 400, "{ignored:?}");
    assert!(
        ignored.json()["error"]
            .as_str()
            .unwrap()
            .contains("no notification of the template takes that key"),
        "{ignored:?}"
    );
}
