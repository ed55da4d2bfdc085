//! Who acts, and what they may do: the acting person ([`Actor`]: id, role, organisation or
//! company), the signed-in person a page shows ([`Viewer`]: an actor and their session), and
//! the one set of guards every service asks (`require_lead`, `require_supplier`, …). Services
//! take an `&Actor`; the web hands them its `Viewer`, which derefs to one.

use crate::error::AppError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Buyer,
    Lead,
    Supplier,
    Admin,
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

/// The person acting: what every service needs to decide and to record who did what.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    /// Shown to pages only as `person`, a key of the person's own browser drafts.
    #[serde(rename = "person", serialize_with = "draft_key")]
    pub user_id: i32,
    pub email: String,
    pub role: Role,
    /// The code of the buyer's organisation (`CHU`).
    pub organisation: Option<String>,
    #[serde(skip)]
    pub organisation_id: Option<i32>,
    #[serde(skip)]
    pub supplier_id: Option<i32>,
    /// The version of the organisation's needs when the credential was looked up (in the same
    /// query): what a needs list served again must have been computed at.
    #[serde(skip)]
    pub needs_version: Option<i64>,
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

/// The guards: each says who may go on, and returns what the service needs to (the
/// organisation or the company acted for). Anyone else is refused with a 403.
impl Actor {
    /// A buyer or a lead of an organisation: its id.
    pub fn require_member(&self) -> Result<i32, AppError> {
        match (self.role, self.organisation_id) {
            (Role::Buyer | Role::Lead, Some(id)) => Ok(id),
            _ => Err(AppError::Forbidden),
        }
    }

    /// A lead (procurement lead) of an organisation: its id.
    pub fn require_lead(&self) -> Result<i32, AppError> {
        match (self.role, self.organisation_id) {
            (Role::Lead, Some(id)) => Ok(id),
            _ => Err(AppError::Forbidden),
        }
    }

    /// The lead of this very organisation.
    pub fn require_lead_of(&self, organisation_id: i32) -> Result<(), AppError> {
        match self.require_lead()? == organisation_id {
            true => Ok(()),
            false => Err(AppError::Forbidden),
        }
    }

    /// A company's account: the company's id.
    pub fn require_supplier(&self) -> Result<i32, AppError> {
        match (self.role, self.supplier_id) {
            (Role::Supplier, Some(id)) => Ok(id),
            _ => Err(AppError::Forbidden),
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        match self.role {
            Role::Admin => Ok(()),
            _ => Err(AppError::Forbidden),
        }
    }
}

/// The signed-in person as pages show them: the actor and their session.
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    #[serde(flatten)]
    pub actor: Actor,
    pub display_name: String,
    /// The session's anti-forgery token, written into every form the viewer may post (empty
    /// for a request authenticated by an API token, which posts no form).
    pub csrf_token: String,
    /// Minutes of inactivity before the session ends, for the page's warning.
    pub idle_minutes: i64,
}

impl std::ops::Deref for Viewer {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.actor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, organisation_id: Option<i32>, supplier_id: Option<i32>) -> Actor {
        Actor {
            user_id: 1,
            email: "x@example.fr".into(),
            role,
            organisation: None,
            organisation_id,
            supplier_id,
            needs_version: None,
        }
    }

    #[test]
    fn each_guard_lets_its_own_through_and_refuses_the_others() {
        let buyer = actor(Role::Buyer, Some(3), None);
        let lead = actor(Role::Lead, Some(3), None);
        let company = actor(Role::Supplier, None, Some(9));
        let admin = actor(Role::Admin, None, None);
        assert_eq!(buyer.require_member().unwrap(), 3);
        assert_eq!(lead.require_member().unwrap(), 3);
        assert!(buyer.require_lead().is_err());
        assert_eq!(lead.require_lead().unwrap(), 3);
        assert!(lead.require_lead_of(3).is_ok());
        assert!(lead.require_lead_of(4).is_err());
        assert_eq!(company.require_supplier().unwrap(), 9);
        assert!(company.require_member().is_err() && lead.require_supplier().is_err());
        assert!(admin.require_admin().is_ok() && lead.require_admin().is_err());
        // A lead without an organisation (a broken account) is no lead.
        assert!(actor(Role::Lead, None, None).require_lead().is_err());
    }
}
