export { EnqueueOptions, JobStatus, type Job } from '../../kit/jobs.js';
