"""The AWS CDK app of the delivery tracker: one stack composed of one construct per concern."""
