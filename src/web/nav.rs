//! Navigation by role: which links each kind of person sees. Pages are added here as they are
//! built, so nobody is shown a link to a page they cannot use.

use serde::Serialize;

pub use crate::auth::{Role, Viewer};

#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// Every link of the navigation, in display order, with the roles that see it (`None`:
/// everyone, signed in or not).
const LINKS: &[(&str, &str, Option<&[Role]>)] = &[
    (
        "/accueil",
        "Mon espace",
        Some(&[Role::Buyer, Role::Lead, Role::Supplier, Role::Admin]),
    ),
    ("/appels-d-offres", "Appels d'offres publiés", None),
    ("/programme-achats", "Achats prévus", None),
    ("/besoins", "Besoins", Some(&[Role::Buyer, Role::Lead])),
    ("/mutualisation", "Mutualisation", Some(&[Role::Lead])),
    (
        "/consultations",
        "Consultations",
        Some(&[Role::Buyer, Role::Lead]),
    ),
    ("/entreprise", "Mon entreprise", Some(&[Role::Supplier])),
    (
        "/tableau-de-bord",
        "Tableau de bord",
        Some(&[Role::Buyer, Role::Lead]),
    ),
    (
        "/admin/organisations",
        "Organisations",
        Some(&[Role::Admin]),
    ),
    ("/admin/utilisateurs", "Utilisateurs", Some(&[Role::Admin])),
    ("/admin/journal", "Journal d'audit", Some(&[Role::Admin])),
    ("/admin/parametres", "Paramètres", Some(&[Role::Admin])),
    ("/admin/courriels", "Courriels", Some(&[Role::Admin])),
    (
        "/admin/cle-de-secours",
        "Clé de secours",
        Some(&[Role::Admin]),
    ),
    (
        "/compte",
        "Mon compte",
        Some(&[Role::Buyer, Role::Lead, Role::Supplier, Role::Admin]),
    ),
];

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
        let items = nav_for(None, "/appels-d-offres");
        assert!(!items.is_empty());
        assert!(items
            .iter()
            .all(|i| LINKS.iter().any(|(h, _, a)| *h == i.href && a.is_none())));
        assert!(items
            .iter()
            .any(|i| i.current && i.href == "/appels-d-offres"));
    }

    #[test]
    fn each_role_sees_its_own_pages() {
        let hrefs =
            |role| -> Vec<&str> { nav_for(Some(role), "/").iter().map(|i| i.href).collect() };
        assert!(hrefs(Role::Supplier).contains(&"/entreprise"));
        assert!(!hrefs(Role::Supplier).contains(&"/besoins"));
        assert!(
            hrefs(Role::Lead).contains(&"/mutualisation")
                && hrefs(Role::Lead).contains(&"/tableau-de-bord")
        );
        assert!(!hrefs(Role::Buyer).contains(&"/mutualisation"));
        assert!(
            hrefs(Role::Admin).contains(&"/admin/journal")
                && !hrefs(Role::Admin).contains(&"/entreprise")
        );
    }
}
