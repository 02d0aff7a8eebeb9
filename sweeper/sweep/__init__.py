"""Running a sweep: plan jobs into groups, train them on a backend, write each job."""
