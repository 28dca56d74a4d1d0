//! The handler: who is calling, which route, and the answer.

use imagegen_core::ports::{ExecutionDescriber, ExecutionStarter, ObjectStore};
use lambda_http::{Body, Request, RequestExt, Response};

use crate::config::Config;
use crate::routes::{GENERATE_IMAGE, IMAGE_STATUS, ROUTES, Route};
use crate::{caller, post, responses, status};

/// What the handler talks to: Step Functions (start, describe) and S3 (manifests, links).
#[derive(Debug, Clone)]
pub struct Ports<St, D, S> {
    pub starter: St,
    pub describer: D,
    pub store: S,
}

/// Answer one API Gateway request. Never fails: every error is an answer.
pub async fn handle<St, D, S>(
    config: &Config,
    ports: &Ports<St, D, S>,
    request: Request,
) -> Response<Body>
where
    St: ExecutionStarter,
    D: ExecutionDescriber,
    S: ObjectStore,
{
    // IAM authorization checked the signature before the function ran; a request that arrives with
    // no caller (an API deployed without it, a direct invocation) is refused, never served anonymously.
    let Some(caller) = caller::caller(&request) else {
        return responses::no_such_route();
    };
    match route_of(&request) {
        Some(GENERATE_IMAGE) => {
            post::generate(config, &ports.starter, &ports.describer, &caller, &request).await
        }
        Some(IMAGE_STATUS) => {
            status::status(config, &ports.describer, &ports.store, &caller, &request).await
        }
        _ => responses::no_such_route(),
    }
}

/// The route: API Gateway's resource path when the event names it, else the path matched against
/// the resources.
fn route_of(request: &Request) -> Option<Route> {
    let method = request.method().as_str();
    let resource = caller::resource(request);
    ROUTES.into_iter().find(|route| {
        route.method == method
            && match &resource {
                Some(resource) => resource == route.resource,
                None => matches(route.resource, request.raw_http_path()),
            }
    })
}

/// Whether `path` fits the resource template (`{name}` matches one non-empty segment).
pub fn matches(template: &str, path: &str) -> bool {
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments() {
        assert!(matches("/images/{requestId}", "/images/abc"));
        assert!(!matches("/images/{requestId}", "/images/"));
        assert!(!matches("/images/{requestId}", "/images/a/b"));
        assert!(matches("/generate-image", "/generate-image"));
        assert!(!matches("/generate-image", "/generate-image/x"));
    }
}
