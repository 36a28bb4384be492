DROP TABLE link_codes;
DROP TABLE link_browsers;
