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
    /// Shown to pages only as `person`, a key of the person's own browser drafts.
    #[serde(rename = "person", serialize_with = "draft_key")]
    pub user_id: i32,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation: Option<String>,
    #[serde(skip)]
    pub organisation_id: Option<i32>,
    #[serde(skip)]
    pub supplier_id: Option<i32>,
    /// The version of the organisation's needs when the credential was looked up (in the same
    /// query): what a needs list served again must have been computed at.
    #[serde(skip)]
    pub needs_version: Option<i64>,
    /// The session's anti-forgery token, written into every form the viewer may post (empty
    /// for a request authenticated by an API token, which posts no form).
    pub csrf_token: String,
    /// Minutes of inactivity before the session ends, for the page's warning.
    pub idle_minutes: i64,
}

/// The key under which a person's drafts are kept in their browser (`static/session.js`):
/// derived from their id, so that two people of one browser never share drafts, without
/// writing the id itself into pages.
fn draft_key<S: serde::Serializer>(user_id: &i32, serializer: S) -> Result<S::Ok, S::Error> {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("groupement-brouillon:{user_id}").as_bytes());
    let key: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    serializer.serialize_str(&key)
}

impl Role {
    pub fn parse(code: &str) -> Option<Role> {
        match code {
            "buyer" => Some(Role::Buyer),
            "lead" => Some(Role::Lead),
            "supplier" => Some(Role::Supplier),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Role::Buyer => "buyer",
            Role::Lead => "lead",
            Role::Supplier => "supplier",
            Role::Admin => "admin",
        }
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Role::Buyer => "acheteur",
            Role::Lead => "responsable achats",
            Role::Supplier => "entreprise",
            Role::Admin => "administrateur",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// Every link of the navigation, in display order, with the roles that see it (`None`:
/// everyone, signed in or not).
const LINKS: &[(&str, &str, Option<&[Role]>)] = &[
    ("/appels-d-offres", "Appels d'offres publiés", None),
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
    ("/admin/courriels", "Courriels", Some(&[Role::Admin])),
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
