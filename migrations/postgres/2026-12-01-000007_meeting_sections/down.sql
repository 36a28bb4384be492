DROP TABLE meeting_record_sections;
