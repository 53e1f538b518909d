//! The API's routing table. Handlers are declared with their full paths; the table nests them
//! into one scope per path segment, so a request is matched segment by segment: static
//! segments by comparison, and only the parameter segments on its own branch by pattern.
//! Registered flat, every route tried before the right one cost a regular-expression match
//! (a quarter of the CPU of a cached read).

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder, Route};

use super::problem;

/// Routes by path, in the order they were added.
#[derive(Default)]
pub struct RouteTable {
    root: Node,
}

#[derive(Default)]
struct Node {
    /// Routes (one per method) of the path that ends at this node, with their methods.
    routes: Vec<(Method, Route)>,
    children: Vec<(String, Node)>,
}

/// `RouteTable::get` and its siblings: a handler for one method of a path.
macro_rules! method_routes {
    ($($name:ident => $method:ident),*) => {$(
        pub fn $name<F, Args>(&mut self, path: &str, handler: F)
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.add(path, Method::$method, web::route().method(Method::$method).to(handler));
        }
    )*};
}

impl RouteTable {
    method_routes!(get => GET, post => POST, put => PUT, delete => DELETE, patch => PATCH);

    /// Adds the route of `method` under its full path below `/api/v1`.
    fn add(&mut self, path: &str, method: Method, route: Route) {
        let mut node = &mut self.root;
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            let index = match node.children.iter().position(|(s, _)| s == segment) {
                Some(index) => index,
                None => {
                    node.children.push((segment.to_string(), Node::default()));
                    node.children.len() - 1
                }
            };
            node = &mut node.children[index].1;
        }
        node.routes.push((method, route));
    }

    /// Registers every route, nested by segment.
    pub fn register(self, cfg: &mut web::ServiceConfig) {
        for (segment, node) in sorted(self.root.children) {
            cfg.service(node.into_scope(&segment));
        }
    }
}

/// Static segments before parameters, so that `/distributions/preview` is not taken for an id.
fn sorted(mut children: Vec<(String, Node)>) -> Vec<(String, Node)> {
    children.sort_by_key(|(segment, _)| segment.starts_with('{'));
    children
}

impl Node {
    fn into_scope(self, segment: &str) -> actix_web::Scope {
        let mut scope = web::scope(&format!("/{segment}"));
        if !self.routes.is_empty() {
            // A known path with another method: 405 with the methods it serves.
            let mut allowed: Vec<String> = self.routes.iter().map(|(method, _)| method.to_string()).collect();
            // HEAD is served wherever GET is (`http::head_as_get`).
            if allowed.iter().any(|method| method == "GET") {
                allowed.push("HEAD".to_string());
            }
            allowed.sort_unstable();
            allowed.dedup();
            let mut resource = web::resource("").default_service(web::to(problem::method_not_allowed(allowed)));
            for (_, route) in self.routes {
                resource = resource.route(route);
            }
            scope = scope.service(resource);
        }
        for (child, node) in sorted(self.children) {
            scope = scope.service(node.into_scope(&child));
        }
        scope
    }
}
