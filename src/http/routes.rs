//! The API's routing table. Handlers are declared with their full paths; the table nests them
//! into one scope per path segment, so a request is matched segment by segment: static
//! segments by comparison, and only the parameter segments on its own branch by pattern.
//! Registered flat, every route tried before the right one cost a regular-expression match
//! (a quarter of the CPU of a cached read).

use actix_web::{web, Route};

use super::problem;

/// Routes by path, in the order they were added.
#[derive(Default)]
pub struct RouteTable {
    root: Node,
}

#[derive(Default)]
struct Node {
    /// Routes (one per method) of the path that ends at this node.
    routes: Vec<Route>,
    children: Vec<(String, Node)>,
}

impl RouteTable {
    /// Adds a route (`web::get().to(handler)`, ...) under its full path below `/api/v1`.
    pub fn add(&mut self, path: &str, route: Route) {
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
        node.routes.push(route);
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
            // A known path with another method answers like an unknown path.
            let mut resource = web::resource("").default_service(web::to(problem::not_found));
            for route in self.routes {
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
