<?php
/**
 * Settings → Petition widget: the service's address, how petitions load by default, whether
 * the service answers, and how to paste a petition.
 *
 * @package PetitionWidget
 */

defined( 'ABSPATH' ) || exit;

add_action( 'admin_menu', 'petition_widget_menu' );
add_filter( 'plugin_action_links_' . plugin_basename( PETITION_WIDGET_FILE ), 'petition_widget_action_links' );

/**
 * Adds the settings page.
 */
function petition_widget_menu() {
	add_options_page( __( 'Petition widget', 'petition-widget' ), __( 'Petition widget', 'petition-widget' ), 'manage_options', 'petition-widget', 'petition_widget_settings_page' );
}

/**
 * A "Settings" link beside the plugin on the Plugins page.
 *
 * @param array $links The plugin's links.
 */
function petition_widget_action_links( $links ) {
	$links[] = '<a href="' . esc_url( admin_url( 'options-general.php?page=petition-widget' ) ) . '">' . esc_html__( 'Settings', 'petition-widget' ) . '</a>';
	return $links;
}

/**
 * Whether the service answers its health check, said in a sentence.
 *
 * @param string $service The service's origin.
 */
function petition_widget_reachable( $service ) {
	$response = wp_remote_get( $service . '/healthz', array( 'timeout' => 3, 'redirection' => 0 ) );
	if ( is_wp_error( $response ) ) {
		/* translators: %s: the error WordPress met. */
		return array( false, sprintf( __( 'This site could not reach the service: %s. Readers’ browsers may still reach it, but counts on click-to-load cards will be missing.', 'petition-widget' ), $response->get_error_message() ) );
	}
	$status = wp_remote_retrieve_response_code( $response );
	if ( 200 !== $status ) {
		/* translators: %d: an HTTP status code. */
		return array( false, sprintf( __( 'The service answered with status %d: check the address.', 'petition-widget' ), $status ) );
	}
	return array( true, __( 'This site reaches the service.', 'petition-widget' ) );
}

/**
 * The page itself.
 */
function petition_widget_settings_page() {
	if ( ! current_user_can( 'manage_options' ) ) {
		return;
	}
	$service = petition_widget_service();
	$load    = get_option( 'petition_widget_load', 'page' );
	?>
	<div class="wrap">
		<h1><?php esc_html_e( 'Petition widget', 'petition-widget' ); ?></h1>
		<?php
		if ( '' !== $service ) {
			list( $ok, $said ) = petition_widget_reachable( $service );
			printf( '<div class="notice notice-%s inline"><p>%s</p></div>', $ok ? 'success' : 'warning', esc_html( $said ) );
		}
		?>
		<form method="post" action="options.php">
			<?php settings_fields( 'petition_widget' ); ?>
			<table class="form-table" role="presentation">
				<tr>
					<th scope="row"><label for="petition_widget_service"><?php esc_html_e( 'Petition service address', 'petition-widget' ); ?></label></th>
					<td>
						<input type="url" class="regular-text code" id="petition_widget_service" name="petition_widget_service" value="<?php echo esc_attr( $service ); ?>" placeholder="https://petitions.example.org" aria-describedby="petition-widget-service-help">
						<p class="description" id="petition-widget-service-help"><?php esc_html_e( 'The site that hosts the petitions, as the campaign gave it to you: the part before /c/ in a petition’s address.', 'petition-widget' ); ?></p>
					</td>
				</tr>
				<tr>
					<th scope="row"><?php esc_html_e( 'Load petitions', 'petition-widget' ); ?></th>
					<td>
						<fieldset>
							<legend class="screen-reader-text"><?php esc_html_e( 'Load petitions', 'petition-widget' ); ?></legend>
							<label><input type="radio" name="petition_widget_load" value="page" <?php checked( 'page', $load ); ?>> <?php esc_html_e( 'With the page: readers see the form at once.', 'petition-widget' ); ?></label><br>
							<label><input type="radio" name="petition_widget_load" value="click" <?php checked( 'click', $load ); ?>> <?php esc_html_e( 'When the reader clicks: the page shows the title, the count and a button, and readers’ browsers ask nothing of the petition service until they click. Choose this where readers may be watched.', 'petition-widget' ); ?></label>
						</fieldset>
					</td>
				</tr>
			</table>
			<?php submit_button(); ?>
		</form>
		<h2><?php esc_html_e( 'Adding a petition to a post or page', 'petition-widget' ); ?></h2>
		<p><?php esc_html_e( 'Any of these works for every role that can write posts, Authors and Contributors included:', 'petition-widget' ); ?></p>
		<ul style="list-style:disc;padding-left:2em">
			<li><?php esc_html_e( 'the Petition block (in the Embeds category);', 'petition-widget' ); ?></li>
			<li><code>[petition campaign="belarus" partner="CODE" lang="fr"]</code> <?php esc_html_e( '(partner and lang may be left out; mode="counter" shows only the count; load="click" or load="page" overrides the setting above);', 'petition-widget' ); ?></li>
			<li><?php esc_html_e( 'the petition’s address on a line of its own.', 'petition-widget' ); ?></li>
		</ul>
	</div>
	<?php
}
