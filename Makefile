# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Each first runs tools/setup.sh, which is idempotent (seconds once done).
.PHONY: setup demo test bench checkpoint

setup:
	tools/setup.sh

demo: setup
	bash -c 'source install/setup.bash && cliport demo'

test: setup
	tools/test.sh

bench: setup
	bash -c 'source install/setup.bash && cliport bench perception'

# Retrain the shipped checkpoint from scratch (1000 demos, about 25 min, then 110 min of training and
# the selection: about 2.5 hours on a 2-core CPU).
checkpoint: setup
	tools/train_checkpoint.sh
