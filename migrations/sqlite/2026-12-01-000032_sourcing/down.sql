DROP TABLE sourcing_declarations;
