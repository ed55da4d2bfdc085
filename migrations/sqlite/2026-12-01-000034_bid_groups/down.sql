DROP TABLE bid_group_members;
DROP TABLE bid_groups;
