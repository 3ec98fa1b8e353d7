//! Who the lab acts as: one of the story's users (`lab.users`) with the organization
//! (tenant) it belongs to. Read by `db::acting` when the lab starts, kept by the app, shown
//! in the status bar and handed to a demo when it starts, so a tenant-aware handler knows
//! whose request it serves.

/// A user of the story data and its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingAs {
    pub user_id: i64,
    pub username: String,
    pub organization_id: i64,
    pub organization: String,
}

impl ActingAs {
    /// `alice · Acme Corp (org 1)`: who, and which tenant's rows are theirs.
    pub fn label(&self) -> String {
        format!(
            "{} · {} (org {})",
            self.username, self.organization, self.organization_id
        )
    }

    /// `alice (org 1)`: the label without the organization's name, for a narrow line.
    pub fn short_label(&self) -> String {
        format!("{} (org {})", self.username, self.organization_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labels_name_the_user_and_the_tenant() {
        let alice = ActingAs {
            user_id: 1,
            username: "alice".into(),
            organization_id: 1,
            organization: "Acme Corp".into(),
        };
        assert_eq!(alice.label(), "alice · Acme Corp (org 1)");
        assert_eq!(alice.short_label(), "alice (org 1)");
    }
}
