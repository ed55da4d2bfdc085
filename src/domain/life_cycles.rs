//! The six life cycles — need, pooling run, tender, a member's share, bid, contract — each in
//! one table: statuses, labels, the moves allowed between them. Every change of status goes
//! through one function per life cycle, a conditional update on the statuses a move may start
//! from (`move_needs` and `move_needs_together`, `move_run`, `move_tender`, `move_approval`,
//! `move_bid`, `move_contract`), so that a race loses cleanly and nothing bends the path.
//!
//! A need: see `need_status`.
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

/// Declares a life cycle in one table: the enum, each status's code (the text stored in the
/// database, which the migrations' `CHECK` lists too), its French and English labels, and the
/// moves allowed between statuses — everything else (`ALL`, `parse`, `predecessors`) follows.
macro_rules! life_cycle {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($variant:ident = $code:literal, $fr:literal, $en:literal;)+
        }
        moves: [$(($from:ident, $to:ident)),+ $(,)?]
    ) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[serde(rename_all = "snake_case")]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// The code stored in the status column.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn parse(code: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|s| s.code() == code)
            }

            pub fn label_fr(self) -> &'static str {
                match self {
                    $($name::$variant => $fr),+
                }
            }

            pub fn label_en(self) -> &'static str {
                match self {
                    $($name::$variant => $en),+
                }
            }

            /// Whether the life cycle allows the move from `self` to `next`.
            pub fn can_move_to(self, next: $name) -> bool {
                matches!((self, next), $(($name::$from, $name::$to))|+)
            }

            /// The statuses `next` may be reached from: the condition of the one update
            /// that moves to it.
            pub fn predecessors(next: $name) -> Vec<$name> {
                $name::ALL
                    .into_iter()
                    .filter(|s| s.can_move_to(next))
                    .collect()
            }
        }
    };
}

life_cycle! {
    /// A need's status (see `need_status`).
    NeedStatus {
        Draft = "draft", "brouillon", "draft";
        Submitted = "submitted", "soumis", "submitted";
        Pooled = "pooled", "mutualisé", "pooled";
        Tendered = "tendered", "en consultation", "in a tender";
        Awarded = "awarded", "attribué", "awarded";
        Withdrawn = "withdrawn", "retiré", "withdrawn";
        Unsuccessful = "unsuccessful", "infructueux", "unsuccessful";
    }
    moves: [
        (Draft, Submitted),
        (Draft, Withdrawn),
        (Submitted, Pooled),
        (Submitted, Withdrawn),
        (Pooled, Tendered),
        (Tendered, Awarded),
        (Tendered, Unsuccessful),
        (Unsuccessful, Submitted),
        (Unsuccessful, Withdrawn),
    ]
}

impl NeedStatus {
    /// Whether its buyer may still change the need's content (draft, submitted and not yet in
    /// an accepted proposal, or back from an unsuccessful lot).
    pub fn editable(self) -> bool {
        matches!(
            self,
            NeedStatus::Draft | NeedStatus::Submitted | NeedStatus::Unsuccessful
        )
    }
}

life_cycle! {
    /// A tender's status. (`cancelled` is in the data model; nothing leads there yet.)
    TenderStatus {
        Draft = "draft", "renvoyée au coordonnateur", "sent back to the coordinator";
        Approving = "approving", "en approbation par les membres", "being approved by the members";
        Approved = "approved", "approuvée, à publier", "approved, to publish";
        Published = "published", "publiée", "published";
        Closed = "closed", "close, offres à ouvrir", "closed, bids to open";
        Awarded = "awarded", "attribuée", "awarded";
        Cancelled = "cancelled", "annulée", "cancelled";
    }
    moves: [
        (Draft, Approving),
        (Approving, Draft),
        (Approving, Approved),
        (Approved, Published),
        (Published, Closed),
        (Closed, Awarded),
    ]
}

impl TenderStatus {
    /// The statuses of a tender that the public sees (its notice and, later, its results).
    pub const PUBLIC: [TenderStatus; 3] = [
        TenderStatus::Published,
        TenderStatus::Closed,
        TenderStatus::Awarded,
    ];
}

life_cycle! {
    /// A pooling run's status.
    RunStatus {
        Running = "running", "en cours de calcul", "computing";
        Proposed = "proposed", "proposition à examiner", "proposal to review";
        Accepted = "accepted", "acceptée", "accepted";
        Discarded = "discarded", "abandonnée", "discarded";
        Failed = "failed", "échec", "failed";
    }
    moves: [
        (Running, Proposed),
        (Running, Failed),
        (Running, Discarded),
        (Proposed, Accepted),
        (Proposed, Discarded),
        // The lead picked another plan of the run's frontier: computed again at its weight.
        (Proposed, Running),
        (Failed, Discarded),
    ]
}

life_cycle! {
    /// A member's decision on its share of a tender: decided once; the coordinator's
    /// resubmission asks every member again.
    ApprovalStatus {
        Pending = "pending", "en attente", "pending";
        Approved = "approved", "approuvée", "approved";
        Refused = "refused", "refusée", "refused";
    }
    moves: [
        (Pending, Approved),
        (Pending, Refused),
        (Approved, Pending),
        (Refused, Pending),
    ]
}

life_cycle! {
    /// A supplier's bid on a lot: before the deadline it may be withdrawn and submitted again
    /// (the service checks the deadline in the same transaction).
    BidStatus {
        Submitted = "submitted", "déposée", "submitted";
        Withdrawn = "withdrawn", "retirée", "withdrawn";
    }
    moves: [(Submitted, Withdrawn), (Withdrawn, Submitted)]
}

life_cycle! {
    /// A contract awarded to a supplier for a member's share of a lot: signed once, nothing
    /// leads back to `pending`.
    ContractStatus {
        Pending = "pending", "à signer", "to sign";
        Active = "active", "signé", "signed";
    }
    moves: [(Pending, Active)]
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
