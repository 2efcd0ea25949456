-- A study database written by ssmtune 0.1.0 at commit 4577dbc, before its modules moved under
-- `ssmtune` (issue 23): `tests/search/test_pre_namespace.py` resumes its studies with today's
-- code. SQL text (Python's sqlite3 `iterdump`), loaded into a new SQLite file by the test.
-- Made from an empty folder with that commit's `ssmtune` (storage sqlite:///old.db):
--   study start --task basicmotions --space linoss-im --sampler grid --n-trials 4 --workers 1
--     --max-steps 6 --eval-every 2 --seed 7 --name old-train
--   study start --task basicmotions --space hope --sampler grid --workers 1
--     --objective benchmarks._overhead:noop --name old-noop
-- each stopped with Ctrl+C (SIGINT) once it had completed a trial or more: old-train has 2 of
-- its 4 points complete and 2 waiting, old-noop 7 of 48 complete and 41 waiting; old-noop
-- records its objective by the module's old name. The checkpoint folder recorded,
-- /tmp/oldfix/old.db.checkpoints, is replaced by the test's own.
BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('v3.2.0.a');
CREATE TABLE studies (
	study_id INTEGER NOT NULL, 
	study_name VARCHAR(512) NOT NULL, 
	PRIMARY KEY (study_id)
);
INSERT INTO "studies" VALUES(1,'old-train');
INSERT INTO "studies" VALUES(2,'old-noop');
CREATE TABLE study_directions (
	study_direction_id INTEGER NOT NULL, 
	direction VARCHAR(8) NOT NULL, 
	study_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	PRIMARY KEY (study_direction_id), 
	UNIQUE (study_id, objective), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_directions" VALUES(1,'MAXIMIZE',1,0);
INSERT INTO "study_directions" VALUES(2,'MAXIMIZE',2,0);
CREATE TABLE study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_system_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_system_attributes" VALUES(1,1,'study:metric_names','["val_accuracy"]');
INSERT INTO "study_system_attributes" VALUES(2,1,'dashboard:note_ver','2');
INSERT INTO "study_system_attributes" VALUES(3,1,'dashboard:note_str:0','"## Settings\n- task: basicmotions\n- model: linoss\n- space: linoss-im (162 points)\n- sampler: grid\n- pruner: none\n- seed: 7\n- protocol: max_steps 6, eval_every 2, patience 10, batch_size 32\n- budget: none\n- objective: maximize val_accuracy\n\n## Cost so far\n- spent: 0.0045 device-hours\n- trials: 2 complete, 0 pruned, 0 failed, 2 running or waiting\n- updated: 2026-12-08 01:08 UTC"');
INSERT INTO "study_system_attributes" VALUES(4,2,'study:metric_names','["val_accuracy"]');
INSERT INTO "study_system_attributes" VALUES(5,2,'dashboard:note_ver','2');
INSERT INTO "study_system_attributes" VALUES(6,2,'dashboard:note_str:0','"## Settings\n- task: basicmotions\n- model: hope\n- space: hope (48 points)\n- sampler: grid\n- pruner: none\n- seed: 2345\n- protocol: max_steps 100000, eval_every 1000, patience 10, batch_size 32\n- budget: none\n- objective: maximize val_accuracy\n\n## Cost so far\n- spent: 8.67e-08 device-hours\n- trials: 7 complete, 0 pruned, 0 failed, 41 running or waiting\n- updated: 2026-12-08 01:08 UTC"');
CREATE TABLE study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL, 
	study_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (study_user_attribute_id), 
	UNIQUE (study_id, "key"), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "study_user_attributes" VALUES(1,1,'task','"basicmotions"');
INSERT INTO "study_user_attributes" VALUES(2,1,'model','"linoss"');
INSERT INTO "study_user_attributes" VALUES(3,1,'space','"linoss-im"');
INSERT INTO "study_user_attributes" VALUES(4,1,'space_size','162');
INSERT INTO "study_user_attributes" VALUES(5,1,'sampler','"grid"');
INSERT INTO "study_user_attributes" VALUES(6,1,'pruner','"none"');
INSERT INTO "study_user_attributes" VALUES(7,1,'protocol','{"max_steps": 6, "eval_every": 2, "patience": 10, "batch_size": 32}');
INSERT INTO "study_user_attributes" VALUES(8,1,'seed','7');
INSERT INTO "study_user_attributes" VALUES(9,1,'direction','"maximize"');
INSERT INTO "study_user_attributes" VALUES(10,1,'ssmtune_version','"0.1.0"');
INSERT INTO "study_user_attributes" VALUES(11,1,'n_trials','4');
INSERT INTO "study_user_attributes" VALUES(12,1,'max_retries','2');
INSERT INTO "study_user_attributes" VALUES(13,1,'budget_hours','null');
INSERT INTO "study_user_attributes" VALUES(14,1,'execution','{"workers": 1, "cpus_per_trial": 1.0, "gpus_per_trial": 0.0}');
INSERT INTO "study_user_attributes" VALUES(15,1,'data','null');
INSERT INTO "study_user_attributes" VALUES(16,1,'checkpoint_dir','"/tmp/oldfix/old.db.checkpoints"');
INSERT INTO "study_user_attributes" VALUES(17,2,'task','"basicmotions"');
INSERT INTO "study_user_attributes" VALUES(18,2,'model','"hope"');
INSERT INTO "study_user_attributes" VALUES(19,2,'space','"hope"');
INSERT INTO "study_user_attributes" VALUES(20,2,'space_size','48');
INSERT INTO "study_user_attributes" VALUES(21,2,'sampler','"grid"');
INSERT INTO "study_user_attributes" VALUES(22,2,'pruner','"none"');
INSERT INTO "study_user_attributes" VALUES(23,2,'protocol','{"max_steps": 100000, "eval_every": 1000, "patience": 10, "batch_size": 32}');
INSERT INTO "study_user_attributes" VALUES(24,2,'seed','2345');
INSERT INTO "study_user_attributes" VALUES(25,2,'direction','"maximize"');
INSERT INTO "study_user_attributes" VALUES(26,2,'ssmtune_version','"0.1.0"');
INSERT INTO "study_user_attributes" VALUES(27,2,'n_trials','null');
INSERT INTO "study_user_attributes" VALUES(28,2,'max_retries','2');
INSERT INTO "study_user_attributes" VALUES(29,2,'budget_hours','null');
INSERT INTO "study_user_attributes" VALUES(30,2,'execution','{"workers": 1, "cpus_per_trial": 1.0, "gpus_per_trial": 0.0, "objective": "benchmarks._overhead:noop"}');
INSERT INTO "study_user_attributes" VALUES(31,2,'data','null');
INSERT INTO "study_user_attributes" VALUES(32,2,'checkpoint_dir','"/tmp/oldfix/old.db.checkpoints"');
CREATE TABLE trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	heartbeat DATETIME NOT NULL, 
	PRIMARY KEY (trial_heartbeat_id), 
	UNIQUE (trial_id), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_heartbeats" VALUES(1,1,'2026-12-08 01:08:13.000000');
INSERT INTO "trial_heartbeats" VALUES(2,2,'2026-12-08 01:08:14');
INSERT INTO "trial_heartbeats" VALUES(3,5,'2026-12-08 01:08:30');
INSERT INTO "trial_heartbeats" VALUES(4,9,'2026-12-08 01:08:30');
INSERT INTO "trial_heartbeats" VALUES(5,13,'2026-12-08 01:08:30');
INSERT INTO "trial_heartbeats" VALUES(6,17,'2026-12-08 01:08:30');
INSERT INTO "trial_heartbeats" VALUES(7,21,'2026-12-08 01:08:30');
INSERT INTO "trial_heartbeats" VALUES(8,25,'2026-12-08 01:08:30');
INSERT INTO "trial_heartbeats" VALUES(9,6,'2026-12-08 01:08:31');
CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	step INTEGER NOT NULL, 
	intermediate_value FLOAT, 
	intermediate_value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_intermediate_value_id), 
	UNIQUE (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_intermediate_values" VALUES(1,1,2,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(2,1,4,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(3,1,6,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(4,2,2,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(5,2,4,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_intermediate_values" VALUES(6,2,6,1.66666666666666657414e-01,'FINITE');
CREATE TABLE trial_params (
	param_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	param_name VARCHAR(512), 
	param_value FLOAT, 
	distribution_json TEXT, 
	PRIMARY KEY (param_id), 
	UNIQUE (trial_id, param_name), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_params" VALUES(1,1,'lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1e-05, 0.0001, 0.001]}}');
INSERT INTO "trial_params" VALUES(2,1,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 4, 6]}}');
INSERT INTO "trial_params" VALUES(3,1,'hidden',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [16, 64, 128]}}');
INSERT INTO "trial_params" VALUES(4,1,'state',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [16, 64, 256]}}');
INSERT INTO "trial_params" VALUES(5,1,'include_time',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [true, false]}}');
INSERT INTO "trial_params" VALUES(6,2,'lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1e-05, 0.0001, 0.001]}}');
INSERT INTO "trial_params" VALUES(7,2,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [2, 4, 6]}}');
INSERT INTO "trial_params" VALUES(8,2,'hidden',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [16, 64, 128]}}');
INSERT INTO "trial_params" VALUES(9,2,'state',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [16, 64, 256]}}');
INSERT INTO "trial_params" VALUES(10,2,'include_time',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [true, false]}}');
INSERT INTO "trial_params" VALUES(11,5,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(12,5,'lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(13,5,'ssm_lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(14,5,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(15,5,'dropout',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
INSERT INTO "trial_params" VALUES(16,9,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(17,9,'lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(18,9,'ssm_lr',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(19,9,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(20,9,'dropout',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
INSERT INTO "trial_params" VALUES(21,13,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(22,13,'lr',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(23,13,'ssm_lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(24,13,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(25,13,'dropout',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
INSERT INTO "trial_params" VALUES(26,17,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(27,17,'lr',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(28,17,'ssm_lr',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(29,17,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(30,17,'dropout',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
INSERT INTO "trial_params" VALUES(31,21,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(32,21,'lr',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(33,21,'ssm_lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(34,21,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(35,21,'dropout',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
INSERT INTO "trial_params" VALUES(36,25,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(37,25,'lr',2.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(38,25,'ssm_lr',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(39,25,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(40,25,'dropout',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
INSERT INTO "trial_params" VALUES(41,6,'blocks',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [6, 8]}}');
INSERT INTO "trial_params" VALUES(42,6,'lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.001, 0.002, 0.004]}}');
INSERT INTO "trial_params" VALUES(43,6,'ssm_lr',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0005, 0.001]}}');
INSERT INTO "trial_params" VALUES(44,6,'dt_max',0.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [1.0, 10.0]}}');
INSERT INTO "trial_params" VALUES(45,6,'dropout',1.0,'{"name": "CategoricalDistribution", "attributes": {"choices": [0.0, 0.1]}}');
CREATE TABLE trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_system_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_system_attributes" VALUES(1,1,'fixed_params','{"lr": 1e-05, "blocks": 2, "hidden": 16, "state": 16, "include_time": true}');
INSERT INTO "trial_system_attributes" VALUES(2,2,'fixed_params','{"lr": 1e-05, "blocks": 2, "hidden": 16, "state": 16, "include_time": false}');
INSERT INTO "trial_system_attributes" VALUES(3,3,'fixed_params','{"lr": 1e-05, "blocks": 2, "hidden": 16, "state": 64, "include_time": true}');
INSERT INTO "trial_system_attributes" VALUES(4,4,'fixed_params','{"lr": 1e-05, "blocks": 2, "hidden": 16, "state": 64, "include_time": false}');
INSERT INTO "trial_system_attributes" VALUES(5,1,'ssmtune:pid','2841');
INSERT INTO "trial_system_attributes" VALUES(6,2,'ssmtune:pid','2841');
INSERT INTO "trial_system_attributes" VALUES(7,5,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(8,6,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(9,7,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(10,8,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(11,9,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(12,10,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(13,11,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(14,12,'fixed_params','{"blocks": 6, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(15,13,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(16,14,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(17,15,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(18,16,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(19,17,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(20,18,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(21,19,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(22,20,'fixed_params','{"blocks": 6, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(23,21,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(24,22,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(25,23,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(26,24,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(27,25,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(28,26,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(29,27,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(30,28,'fixed_params','{"blocks": 6, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(31,29,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(32,30,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(33,31,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(34,32,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(35,33,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(36,34,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(37,35,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(38,36,'fixed_params','{"blocks": 8, "lr": 0.001, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(39,37,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(40,38,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(41,39,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(42,40,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(43,41,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(44,42,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(45,43,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(46,44,'fixed_params','{"blocks": 8, "lr": 0.002, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(47,45,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(48,46,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(49,47,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(50,48,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.0005, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(51,49,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(52,50,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 1.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(53,51,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.0}');
INSERT INTO "trial_system_attributes" VALUES(54,52,'fixed_params','{"blocks": 8, "lr": 0.004, "ssm_lr": 0.001, "dt_max": 10.0, "dropout": 0.1}');
INSERT INTO "trial_system_attributes" VALUES(55,5,'ssmtune:pid','3337');
INSERT INTO "trial_system_attributes" VALUES(56,9,'ssmtune:pid','3337');
INSERT INTO "trial_system_attributes" VALUES(57,13,'ssmtune:pid','3337');
INSERT INTO "trial_system_attributes" VALUES(58,17,'ssmtune:pid','3337');
INSERT INTO "trial_system_attributes" VALUES(59,21,'ssmtune:pid','3337');
INSERT INTO "trial_system_attributes" VALUES(60,25,'ssmtune:pid','3337');
INSERT INTO "trial_system_attributes" VALUES(61,6,'ssmtune:pid','3337');
CREATE TABLE trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL, 
	trial_id INTEGER, 
	"key" VARCHAR(512), 
	value_json TEXT, 
	PRIMARY KEY (trial_user_attribute_id), 
	UNIQUE (trial_id, "key"), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_user_attributes" VALUES(1,1,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(2,1,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(3,1,'wall_s','15.985218252999971');
INSERT INTO "trial_user_attributes" VALUES(4,1,'device_s','15.985218252999971');
INSERT INTO "trial_user_attributes" VALUES(5,1,'compile_s','13.83929228900007');
INSERT INTO "trial_user_attributes" VALUES(6,1,'steps','6');
INSERT INTO "trial_user_attributes" VALUES(7,1,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(8,1,'test','0.16666666666666666');
INSERT INTO "trial_user_attributes" VALUES(9,1,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(10,1,'peak_mem','1073709056');
INSERT INTO "trial_user_attributes" VALUES(11,2,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(12,2,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(13,2,'wall_s','0.22058826200003523');
INSERT INTO "trial_user_attributes" VALUES(14,2,'device_s','0.22058826200003523');
INSERT INTO "trial_user_attributes" VALUES(15,2,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(16,2,'steps','6');
INSERT INTO "trial_user_attributes" VALUES(17,2,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(18,2,'test','0.25');
INSERT INTO "trial_user_attributes" VALUES(19,2,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(20,2,'peak_mem','1073840128');
INSERT INTO "trial_user_attributes" VALUES(21,5,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(22,5,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(23,5,'wall_s','3.7845999997898616e-05');
INSERT INTO "trial_user_attributes" VALUES(24,5,'device_s','3.7845999997898616e-05');
INSERT INTO "trial_user_attributes" VALUES(25,5,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(26,5,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(27,5,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(28,5,'test','null');
INSERT INTO "trial_user_attributes" VALUES(29,5,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(30,5,'peak_mem','null');
INSERT INTO "trial_user_attributes" VALUES(31,9,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(32,9,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(33,9,'wall_s','3.6013999988426804e-05');
INSERT INTO "trial_user_attributes" VALUES(34,9,'device_s','3.6013999988426804e-05');
INSERT INTO "trial_user_attributes" VALUES(35,9,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(36,9,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(37,9,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(38,9,'test','null');
INSERT INTO "trial_user_attributes" VALUES(39,9,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(40,9,'peak_mem','null');
INSERT INTO "trial_user_attributes" VALUES(41,13,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(42,13,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(43,13,'wall_s','3.426099999614962e-05');
INSERT INTO "trial_user_attributes" VALUES(44,13,'device_s','3.426099999614962e-05');
INSERT INTO "trial_user_attributes" VALUES(45,13,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(46,13,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(47,13,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(48,13,'test','null');
INSERT INTO "trial_user_attributes" VALUES(49,13,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(50,13,'peak_mem','null');
INSERT INTO "trial_user_attributes" VALUES(51,17,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(52,17,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(53,17,'wall_s','4.008999997040519e-05');
INSERT INTO "trial_user_attributes" VALUES(54,17,'device_s','4.008999997040519e-05');
INSERT INTO "trial_user_attributes" VALUES(55,17,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(56,17,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(57,17,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(58,17,'test','null');
INSERT INTO "trial_user_attributes" VALUES(59,17,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(60,17,'peak_mem','null');
INSERT INTO "trial_user_attributes" VALUES(61,21,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(62,21,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(63,21,'wall_s','4.042000000481494e-05');
INSERT INTO "trial_user_attributes" VALUES(64,21,'device_s','4.042000000481494e-05');
INSERT INTO "trial_user_attributes" VALUES(65,21,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(66,21,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(67,21,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(68,21,'test','null');
INSERT INTO "trial_user_attributes" VALUES(69,21,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(70,21,'peak_mem','null');
INSERT INTO "trial_user_attributes" VALUES(71,25,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(72,25,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(73,25,'wall_s','0.00010252199996330091');
INSERT INTO "trial_user_attributes" VALUES(74,25,'device_s','0.00010252199996330091');
INSERT INTO "trial_user_attributes" VALUES(75,25,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(76,25,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(77,25,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(78,25,'test','null');
INSERT INTO "trial_user_attributes" VALUES(79,25,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(80,25,'peak_mem','null');
INSERT INTO "trial_user_attributes" VALUES(81,6,'node','"vm"');
INSERT INTO "trial_user_attributes" VALUES(82,6,'devices','1.0');
INSERT INTO "trial_user_attributes" VALUES(83,6,'wall_s','2.1080999999867345e-05');
INSERT INTO "trial_user_attributes" VALUES(84,6,'device_s','2.1080999999867345e-05');
INSERT INTO "trial_user_attributes" VALUES(85,6,'compile_s','0.0');
INSERT INTO "trial_user_attributes" VALUES(86,6,'steps','1');
INSERT INTO "trial_user_attributes" VALUES(87,6,'status','"ok"');
INSERT INTO "trial_user_attributes" VALUES(88,6,'test','null');
INSERT INTO "trial_user_attributes" VALUES(89,6,'device','"cpu"');
INSERT INTO "trial_user_attributes" VALUES(90,6,'peak_mem','null');
CREATE TABLE trial_values (
	trial_value_id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	objective INTEGER NOT NULL, 
	value FLOAT, 
	value_type VARCHAR(7) NOT NULL, 
	PRIMARY KEY (trial_value_id), 
	UNIQUE (trial_id, objective), 
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
INSERT INTO "trial_values" VALUES(1,1,0,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_values" VALUES(2,2,0,1.66666666666666657414e-01,'FINITE');
INSERT INTO "trial_values" VALUES(3,5,0,0.5,'FINITE');
INSERT INTO "trial_values" VALUES(4,9,0,0.5,'FINITE');
INSERT INTO "trial_values" VALUES(5,13,0,0.5,'FINITE');
INSERT INTO "trial_values" VALUES(6,17,0,0.5,'FINITE');
INSERT INTO "trial_values" VALUES(7,21,0,0.5,'FINITE');
INSERT INTO "trial_values" VALUES(8,25,0,0.5,'FINITE');
INSERT INTO "trial_values" VALUES(9,6,0,0.5,'FINITE');
CREATE TABLE trials (
	trial_id INTEGER NOT NULL, 
	number INTEGER, 
	study_id INTEGER, 
	state VARCHAR(8) NOT NULL, 
	datetime_start DATETIME, 
	datetime_complete DATETIME, 
	PRIMARY KEY (trial_id), 
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
INSERT INTO "trials" VALUES(1,0,1,'COMPLETE','2026-12-08 01:07:58.697480','2026-12-08 01:08:14.755041');
INSERT INTO "trials" VALUES(2,1,1,'COMPLETE','2026-12-08 01:08:14.780445','2026-12-08 01:08:15.060995');
INSERT INTO "trials" VALUES(3,2,1,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(4,3,1,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(5,0,2,'COMPLETE','2026-12-08 01:08:30.605882','2026-12-08 01:08:30.708602');
INSERT INTO "trials" VALUES(6,1,2,'COMPLETE','2026-12-08 01:08:31.048487','2026-12-08 01:08:31.095317');
INSERT INTO "trials" VALUES(7,2,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(8,3,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(9,4,2,'COMPLETE','2026-12-08 01:08:30.746949','2026-12-08 01:08:30.783527');
INSERT INTO "trials" VALUES(10,5,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(11,6,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(12,7,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(13,8,2,'COMPLETE','2026-12-08 01:08:30.800131','2026-12-08 01:08:30.842796');
INSERT INTO "trials" VALUES(14,9,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(15,10,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(16,11,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(17,12,2,'COMPLETE','2026-12-08 01:08:30.858784','2026-12-08 01:08:30.907077');
INSERT INTO "trials" VALUES(18,13,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(19,14,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(20,15,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(21,16,2,'COMPLETE','2026-12-08 01:08:30.923945','2026-12-08 01:08:30.975297');
INSERT INTO "trials" VALUES(22,17,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(23,18,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(24,19,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(25,20,2,'COMPLETE','2026-12-08 01:08:30.993263','2026-12-08 01:08:31.031864');
INSERT INTO "trials" VALUES(26,21,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(27,22,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(28,23,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(29,24,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(30,25,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(31,26,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(32,27,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(33,28,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(34,29,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(35,30,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(36,31,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(37,32,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(38,33,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(39,34,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(40,35,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(41,36,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(42,37,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(43,38,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(44,39,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(45,40,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(46,41,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(47,42,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(48,43,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(49,44,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(50,45,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(51,46,2,'WAITING',NULL,NULL);
INSERT INTO "trials" VALUES(52,47,2,'WAITING',NULL,NULL);
CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL, 
	schema_version INTEGER, 
	library_version VARCHAR(256), 
	PRIMARY KEY (version_info_id), 
	CHECK (version_info_id=1)
);
INSERT INTO "version_info" VALUES(1,12,'5.1.0');
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE INDEX ix_trials_study_id ON trials (study_id);
COMMIT;
