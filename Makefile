# The two commands of the README, and their companions.
.PHONY: up down test status

up:      ## bring up Kafka, Redis, every service, and demo data
	bash deploy/up.sh

down:    ## stop everything `make up` started
	bash deploy/down.sh

test:    ## run the whole test suite (starts its own Kafka and Redis on test ports)
	bash deploy/test.sh

status:  ## what is running
	-bash deploy/local/kafka.sh status
	-bash deploy/local/redis.sh status
	-bash deploy/local/services.sh status
