//! Navigation by role: which links each kind of person sees. Pages are added here as they are
//! built, so nobody is shown a link to a page they cannot use.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Buyer,
    Lead,
    Supplier,
    Admin,
}

/// The signed-in person, as pages show them.
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    pub display_name: String,
    pub role: Role,
    pub organisation: Option<String>,
    /// The session's anti-forgery token, written into every form the viewer may post.
    pub csrf_token: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// Every link of the navigation, in display order, with the roles that see it (`None`:
/// everyone, signed in or not).
const LINKS: &[(&str, &str, Option<&[Role]>)] = &[("/", "Appels d'offres publiés", None)];

/// The links shown to a role (`None`: the public).
pub fn nav_for(role: Option<Role>, current_path: &str) -> Vec<NavItem> {
    LINKS
        .iter()
        .filter(|(_, _, audience)| match audience {
            None => true,
            Some(roles) => role.is_some_and(|r| roles.contains(&r)),
        })
        .map(|&(href, label, _)| NavItem {
            href,
            label,
            current: href == current_path,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_sees_only_public_links_and_the_current_one_is_marked() {
        let items = nav_for(None, "/");
        assert!(!items.is_empty());
        assert!(items
            .iter()
            .all(|i| LINKS.iter().any(|(h, _, a)| *h == i.href && a.is_none())));
        assert!(items.iter().any(|i| i.current && i.href == "/"));
    }
}
