DROP TABLE auth_links;
DROP TABLE api_tokens;
