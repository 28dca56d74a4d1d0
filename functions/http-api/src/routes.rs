//! The API's routes: what the CDK app declares as API Gateway resources and methods, and what the
//! local stand-in of `imagegen serve` matches. A request on any other route never reaches the
//! handler on AWS (API Gateway answers 403 `Missing Authentication Token`); the handler answers the
//! same if one does.

/// One method on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// API Gateway's resource path: `{name}` is a path parameter.
    pub resource: &'static str,
}

/// `POST /generate-image`: check a request and start the pipeline.
pub const GENERATE_IMAGE: Route = Route {
    method: "POST",
    resource: "/generate-image",
};

/// `GET /images/{requestId}`: a request's status, and its links when it is done.
pub const IMAGE_STATUS: Route = Route {
    method: "GET",
    resource: "/images/{requestId}",
};

/// The path parameter of [`IMAGE_STATUS`].
pub const REQUEST_ID: &str = "requestId";

/// Every route.
pub const ROUTES: [Route; 2] = [GENERATE_IMAGE, IMAGE_STATUS];

/// The status path of a request (relative to the API's base URL).
pub fn status_path(request_id: &str) -> String {
    IMAGE_STATUS
        .resource
        .replace(&format!("{{{REQUEST_ID}}}"), request_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_path_fills_the_parameter() {
        assert_eq!(status_path("r-1"), "/images/r-1");
    }
}
