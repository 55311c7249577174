"""Business rules of the generation side. Views, tasks, admin actions and management commands
call these and stay thin."""
