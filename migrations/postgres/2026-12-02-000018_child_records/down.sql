DROP TABLE child_relations;
DROP TABLE child_cases;
DROP TABLE children;
