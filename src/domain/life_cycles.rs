//! The life cycles of a tender and of a pooling run, each in one place: statuses, labels, the
//! moves allowed between them. Every change of status goes through a conditional update on the
//! statuses a move may start from (`services::tenders::move_tender`,
//! `services::pooling::move_run`), so that a race loses cleanly and nothing bends the path.
//!
//! A tender: `approving ⇄ draft` (refused by a member, resubmitted by the coordinator),
//! `approving → approved → published → closed → awarded`. (`cancelled` is in the data model;
//! nothing leads there yet.)
//!
//! A run: `running → proposed | failed`, `proposed → accepted | discarded`,
//! `running | failed → discarded`.
//!
//! A member's share of a tender: `pending → approved | refused`, decided once; the
//! coordinator's resubmission asks every member again (`→ pending`).
//!
//! A bid: `submitted ⇄ withdrawn` until the deadline (a revision keeps it `submitted`); after
//! the deadline it is read as it stands, never moved again.
//!
//! A contract: `pending → active` when its member's lead records the signature.

/// A tender's status.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum TenderStatus {
    Draft,
    Approving,
    Approved,
    Published,
    Closed,
    Awarded,
    Cancelled,
}

impl TenderStatus {
    pub const ALL: [TenderStatus; 7] = [
        TenderStatus::Draft,
        TenderStatus::Approving,
        TenderStatus::Approved,
        TenderStatus::Published,
        TenderStatus::Closed,
        TenderStatus::Awarded,
        TenderStatus::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TenderStatus::Draft => "draft",
            TenderStatus::Approving => "approving",
            TenderStatus::Approved => "approved",
            TenderStatus::Published => "published",
            TenderStatus::Closed => "closed",
            TenderStatus::Awarded => "awarded",
            TenderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<TenderStatus> {
        TenderStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            TenderStatus::Draft => "renvoyée au coordinateur",
            TenderStatus::Approving => "en approbation par les membres",
            TenderStatus::Approved => "approuvée, à publier",
            TenderStatus::Published => "publiée",
            TenderStatus::Closed => "close, offres à ouvrir",
            TenderStatus::Awarded => "attribuée",
            TenderStatus::Cancelled => "annulée",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            TenderStatus::Draft => "sent back to the coordinator",
            TenderStatus::Approving => "being approved by the members",
            TenderStatus::Approved => "approved, to publish",
            TenderStatus::Published => "published",
            TenderStatus::Closed => "closed, bids to open",
            TenderStatus::Awarded => "awarded",
            TenderStatus::Cancelled => "cancelled",
        }
    }

    /// The statuses of a tender that the public sees (its notice and, later, its results).
    pub const PUBLIC: [TenderStatus; 3] = [
        TenderStatus::Published,
        TenderStatus::Closed,
        TenderStatus::Awarded,
    ];

    pub fn can_move_to(self, next: TenderStatus) -> bool {
        use TenderStatus::*;
        matches!(
            (self, next),
            (Draft, Approving)
                | (Approving, Draft)
                | (Approving, Approved)
                | (Approved, Published)
                | (Published, Closed)
                | (Closed, Awarded)
        )
    }

    pub fn predecessors(next: TenderStatus) -> Vec<TenderStatus> {
        TenderStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(next))
            .collect()
    }
}

/// A pooling run's status.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum RunStatus {
    Running,
    Proposed,
    Accepted,
    Discarded,
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Proposed,
        RunStatus::Accepted,
        RunStatus::Discarded,
        RunStatus::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Proposed => "proposed",
            RunStatus::Accepted => "accepted",
            RunStatus::Discarded => "discarded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            RunStatus::Running => "en cours de calcul",
            RunStatus::Proposed => "proposition à examiner",
            RunStatus::Accepted => "acceptée",
            RunStatus::Discarded => "abandonnée",
            RunStatus::Failed => "échec",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            RunStatus::Running => "computing",
            RunStatus::Proposed => "proposal to review",
            RunStatus::Accepted => "accepted",
            RunStatus::Discarded => "discarded",
            RunStatus::Failed => "failed",
        }
    }

    pub fn can_move_to(self, next: RunStatus) -> bool {
        use RunStatus::*;
        matches!(
            (self, next),
            (Running, Proposed)
                | (Running, Failed)
                | (Running, Discarded)
                | (Proposed, Accepted)
                | (Proposed, Discarded)
                | (Failed, Discarded)
        )
    }

    pub fn predecessors(next: RunStatus) -> Vec<RunStatus> {
        RunStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(next))
            .collect()
    }
}

/// A member's decision on its share of a tender.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Refused,
}

impl ApprovalStatus {
    pub const ALL: [ApprovalStatus; 3] = [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Refused,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Refused => "refused",
        }
    }

    pub fn parse(code: &str) -> Option<ApprovalStatus> {
        ApprovalStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "en attente",
            ApprovalStatus::Approved => "approuvée",
            ApprovalStatus::Refused => "refusée",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Refused => "refused",
        }
    }

    /// A share is decided once; a resubmission by the coordinator asks every member again.
    pub fn can_move_to(self, next: ApprovalStatus) -> bool {
        use ApprovalStatus::*;
        matches!(
            (self, next),
            (Pending, Approved) | (Pending, Refused) | (Approved, Pending) | (Refused, Pending)
        )
    }

    pub fn predecessors(next: ApprovalStatus) -> Vec<ApprovalStatus> {
        ApprovalStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(next))
            .collect()
    }
}

/// A supplier's bid on a lot.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum BidStatus {
    Submitted,
    Withdrawn,
}

impl BidStatus {
    pub const ALL: [BidStatus; 2] = [BidStatus::Submitted, BidStatus::Withdrawn];

    pub fn code(self) -> &'static str {
        match self {
            BidStatus::Submitted => "submitted",
            BidStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(code: &str) -> Option<BidStatus> {
        BidStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            BidStatus::Submitted => "déposée",
            BidStatus::Withdrawn => "retirée",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            BidStatus::Submitted => "submitted",
            BidStatus::Withdrawn => "withdrawn",
        }
    }

    /// Before the deadline a bid may be withdrawn and submitted again (the service checks the
    /// deadline in the same transaction).
    pub fn can_move_to(self, next: BidStatus) -> bool {
        use BidStatus::*;
        matches!(
            (self, next),
            (Submitted, Withdrawn) | (Withdrawn, Submitted)
        )
    }

    pub fn predecessors(next: BidStatus) -> Vec<BidStatus> {
        BidStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(next))
            .collect()
    }
}

/// A contract awarded to a supplier for a member's share of a lot.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ContractStatus {
    Pending,
    Active,
}

impl ContractStatus {
    pub const ALL: [ContractStatus; 2] = [ContractStatus::Pending, ContractStatus::Active];

    pub fn code(self) -> &'static str {
        match self {
            ContractStatus::Pending => "pending",
            ContractStatus::Active => "active",
        }
    }

    pub fn parse(code: &str) -> Option<ContractStatus> {
        ContractStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            ContractStatus::Pending => "à signer",
            ContractStatus::Active => "signé",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ContractStatus::Pending => "to sign",
            ContractStatus::Active => "signed",
        }
    }

    /// Signed once: nothing leads back to `pending`.
    pub fn can_move_to(self, next: ContractStatus) -> bool {
        matches!(
            (self, next),
            (ContractStatus::Pending, ContractStatus::Active)
        )
    }

    pub fn predecessors(next: ContractStatus) -> Vec<ContractStatus> {
        ContractStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(next))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_each_path_only_goes_forward() {
        for status in TenderStatus::ALL {
            assert_eq!(TenderStatus::parse(status.code()), Some(status));
            assert!(!status.can_move_to(status));
            assert!(!TenderStatus::Awarded.can_move_to(status));
        }
        for status in RunStatus::ALL {
            assert_eq!(RunStatus::parse(status.code()), Some(status));
            assert!(!status.can_move_to(status));
            assert!(!RunStatus::Accepted.can_move_to(status));
            assert!(!RunStatus::Discarded.can_move_to(status));
        }
        assert_eq!(
            TenderStatus::predecessors(TenderStatus::Approving),
            [TenderStatus::Draft]
        );
        assert_eq!(
            RunStatus::predecessors(RunStatus::Discarded),
            [RunStatus::Running, RunStatus::Proposed, RunStatus::Failed]
        );
        for status in ApprovalStatus::ALL {
            assert_eq!(ApprovalStatus::parse(status.code()), Some(status));
        }
        assert!(!ApprovalStatus::Approved.can_move_to(ApprovalStatus::Refused));
        assert!(!ApprovalStatus::Refused.can_move_to(ApprovalStatus::Approved));
        for status in BidStatus::ALL {
            assert_eq!(BidStatus::parse(status.code()), Some(status));
            assert!(!status.can_move_to(status));
        }
        for status in ContractStatus::ALL {
            assert_eq!(ContractStatus::parse(status.code()), Some(status));
            assert!(!ContractStatus::Active.can_move_to(status));
        }
    }
}
